/** The table printed at the end, and the JSON written next to it. */
import type { Row } from './types.js';

export function fmt(x: number, unit: string): string {
  if (!Number.isFinite(x)) return '–';
  if (unit === '×') return x.toFixed(2);
  if (unit === 'MB') return x.toFixed(0);
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString('en');
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(r: Row): string {
  const v = r.value;
  const m = `${fmt(v.median, r.unit)} ${r.unit}`;
  return v.runs.length > 1 ? `${m} (${fmt(v.min, r.unit)}–${fmt(v.max, r.unit)})` : m;
}

export function verdict(r: Row): string {
  if (r.pass === null) return r.target === 'reported' ? '' : 'n/a';
  return r.pass ? 'pass' : 'MISS';
}

/** A plain-text table: #, measure, median (min–max), target, verdict. */
export function table(rows: Row[], skipped: Array<{ id: number; title: string; why: string }>): string {
  const head = ['#', 'measure', 'median (min–max)', 'target', ''];
  const body = rows.map((r) => [String(r.scenario), r.measure, cell(r), r.target, verdict(r)]);
  for (const s of skipped) body.push([String(s.id), `${s.title}: SKIPPED`, s.why, '', '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
