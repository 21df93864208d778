/** The fault suite's tables, as plain text. */
import { missed, type Row } from './harness.js';

const HEAD = ['backend', 'submitted', 'completed', 'failed*', 'cancelled', 'lost', 'twice', 'max stuck', 'stuck', 're-run', 'time', 'result'];

const CLUSTER_HEAD = ['death→1st', 'republished'];

function cells(r: Row, cluster: boolean): string[] {
  const m = missed(r);
  const extra = cluster
    ? [r.deathToFirstMs === undefined || r.deathToFirstMs === null ? '-' : `${(r.deathToFirstMs / 1000).toFixed(2)} s`, r.republished === undefined ? '-' : String(r.republished)]
    : [];
  return [
    r.backend,
    String(r.submitted),
    String(r.completed),
    String(r.failed),
    String(r.cancelled),
    String(r.lost),
    String(r.completedTwice),
    r.maxStuckMs === null ? '-' : `${(r.maxStuckMs / 1000).toFixed(2)} s`,
    String(r.stuck),
    String(r.reran),
    ...extra,
    `${r.seconds} s`,
    r.skipped ? 'skipped' : m.length ? 'MISSED' : 'ok',
  ];
}

export function printTable(n: number, title: string, rows: Row[], out: (s: string) => void): void {
  const cluster = rows.some((r) => r.deathToFirstMs !== undefined || r.republished !== undefined);
  const head = cluster ? [...HEAD.slice(0, 10), ...CLUSTER_HEAD, ...HEAD.slice(10)] : HEAD;
  const body = rows.map((r) => cells(r, cluster));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out(`\nScenario ${n}: ${title}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (let i = 0; i < rows.length; i++) {
    out(`${line(body[i])}\n`);
    const r = rows[i];
    if (r.error) out(`    ! ${r.error}\n`);
    if (r.skipped) out(`    - skipped: ${r.skipped}\n`);
    for (const c of r.checks) out(`    ${c.ok ? 'ok  ' : 'MISS'} ${c.what}${c.detail ? `: ${c.detail}` : ''}\n`);
  }
}

/** The legend printed once under the tables. */
export const LEGEND =
  'failed* = failed with a reason; lost = neither completed, failed with a reason nor cancelled; ' +
  'twice = completed twice; max stuck = longest a job stayed running after its worker (or child) died; ' +
  'stuck = jobs running longer than one lease period plus one sweep (1.5 s) after that; ' +
  're-run = attempts whose work had run to its end before the job ran again (at-least-once; not a target). ' +
  'Scenarios 8–10 (a RabbitMQ cluster): max stuck = longest a job waited, not counting the outages; stuck = jobs that waited over 60 s (9: 90 s, the deficit rule waits 30 s); ' +
  'death→1st = from the fault to the first job completed after it (8: the longest over the kills; 9: from the purge to a job published again; 10: from the cluster back); ' +
  'republished = jobs the lost-message check published again';
