import type { Row } from './types.js';

/**
 * A row saying jobs were left running by a live worker, when any were: Docket's
 * promise is that every job ends, so this is a failure whatever the speed.
 */
export function stuckRows(scenario: number, runs: Array<{ stuck?: string[] }>, total: number): Row[] {
  const all = runs.flatMap((r) => r.stuck ?? []);
  if (all.length === 0) return [];
  return [
    {
      scenario,
      measure: 'jobs left running by a live worker',
      unit: 'jobs',
      value: { median: all.length, min: all.length, max: all.length, runs: [all.length] },
      target: '0',
      pass: false,
      note: `${all.length} of ${total.toLocaleString('en')} over all runs: ${all.slice(0, 3).join('; ')}`,
      detail: { stuck: all },
    },
  ];
}
