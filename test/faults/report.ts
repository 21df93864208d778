/** The fault suite's tables, as plain text. */
import { missed, type Row } from './harness.js';

const HEAD = ['backend', 'submitted', 'completed', 'failed*', 'cancelled', 'lost', 'twice', 'max stuck', 'stuck', 're-run', 'time', 'result'];

function cells(r: Row): string[] {
  const m = missed(r);
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
    `${r.seconds} s`,
    m.length ? 'MISSED' : 'ok',
  ];
}

export function printTable(n: number, title: string, rows: Row[], out: (s: string) => void): void {
  const body = rows.map(cells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out(`\nScenario ${n}: ${title}\n${line(HEAD)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (let i = 0; i < rows.length; i++) {
    out(`${line(body[i])}\n`);
    const r = rows[i];
    if (r.error) out(`    ! ${r.error}\n`);
    for (const c of r.checks) out(`    ${c.ok ? 'ok  ' : 'MISS'} ${c.what}${c.detail ? `: ${c.detail}` : ''}\n`);
  }
}

/** The legend printed once under the tables. */
export const LEGEND =
  'failed* = failed with a reason; lost = neither completed, failed with a reason nor cancelled; ' +
  'twice = completed twice; max stuck = longest a job stayed running after its worker (or child) died; ' +
  'stuck = jobs running longer than one lease period plus one sweep (1.5 s) after that; ' +
  're-run = attempts whose work had run to its end before the job ran again (at-least-once; not a target)';
