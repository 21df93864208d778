#!/usr/bin/env node
/** The `docket` command's entry point; the program is built in program.ts, its commands in commands/. */
import { createWriteStream } from 'node:fs';
import type { CliIO } from './io.js';

/** Defined (true) by scripts/bundle-cli.mjs in the bundle; undeclared in tsc's build. */
declare const __DOCKET_BUNDLE__: boolean | undefined;

/** Commands that run for days: the web app and the worker. */
const SERVER_COMMANDS = new Set(['start', 'web', 'worker']);

const io: CliIO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  exitCode: 0,
  stdin: process.stdin,
  openWrite: (path) => createWriteStream(path),
};

// The build is a bundle (scripts/bundle-cli.mjs) with source maps beside it. They are not
// read unless NODE_OPTIONS=--enable-source-maps: mapping stack traces back to the
// TypeScript source held some 54 MB more in a web process (94 -> 148 MB resident after
// its first requests), which pushed the export's peak and a worker's memory growth past
// their benchmark limits (scenarios 5 and 7).

/**
 * The program. The build's dist/cli/docket.js is an esbuild bundle (scripts/bundle-cli.mjs)
 * that makes a short command start sooner (`docket run noop --wait` 698 -> 406 ms). A web process or a worker runs
 * for days and loads tsc's modules instead (dist/cli/program.js, beside this file): run
 * from the bundle, a worker's resident memory grew with its jobs, 90 -> 127 MB over
 * 100,000 jobs (1.42x), against 101 -> 108 MB (1.07x) from tsc's modules, in benchmark
 * scenario 7 on the same machine.
 */
async function program(): Promise<typeof import('./program.js')> {
  if (typeof __DOCKET_BUNDLE__ !== 'undefined' && SERVER_COMMANDS.has(process.argv[2] ?? '')) {
    // A computed specifier: esbuild leaves it to Node rather than bundling it.
    return (await import(new URL('./program.js', import.meta.url).href)) as typeof import('./program.js');
  }
  return import('./program.js');
}

program()
  .then(({ main }) => main(process.argv.slice(2), io))
  .then(
    (code) => {
      process.exitCode = code;
      // Whatever handle is still open (a pool, a socket), a finished command exits.
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`docket: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
