import type { BenchOptions } from './types.js';

/**
 * Runs `body` up to `opts.runs` times, stopping early when the next run would overrun
 * the scenario's time budget (it says so). Returns how many runs were made.
 */
export async function repeat(opts: BenchOptions, body: (run: number) => Promise<void>): Promise<number> {
  let last = 0;
  let r = 0;
  for (; r < opts.runs; r++) {
    if (r > 0 && !opts.timeFor(last)) {
      opts.log(`  stopping after ${r} of ${opts.runs} runs: another would overrun this scenario's time budget`);
      break;
    }
    const t = Date.now();
    await body(r);
    last = Date.now() - t;
  }
  return r;
}
