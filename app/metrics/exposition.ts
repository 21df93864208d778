/**
 * Prometheus' text exposition format (version 0.0.4), written by hand: a few counters,
 * gauges and histograms need no client library. Label values are escaped as the format
 * requires (backslash, double quote, newline).
 */
export type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class Exposition {
  private lines: string[] = [];

  /** A metric family's HELP and TYPE, then its samples. */
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: Array<{ labels?: Labels; value: number; suffix?: string }>): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    this.lines.push(`# TYPE ${name} ${type}`);
    for (const s of samples) this.lines.push(`${name}${s.suffix ?? ''}${labelText(s.labels ?? {})} ${num(s.value)}`);
  }

  histogram(name: string, help: string, series: Map<string, Histogram>, labelName: string): void {
    const samples: Array<{ labels?: Labels; value: number; suffix?: string }> = [];
    for (const [key, h] of series) {
      let cumulative = 0;
      h.buckets.forEach((le, i) => {
        cumulative += h.counts[i];
        samples.push({ suffix: '_bucket', labels: { [labelName]: key, le: num(le) }, value: cumulative });
      });
      samples.push({ suffix: '_bucket', labels: { [labelName]: key, le: '+Inf' }, value: h.count });
      samples.push({ suffix: '_sum', labels: { [labelName]: key }, value: h.sum });
      samples.push({ suffix: '_count', labels: { [labelName]: key }, value: h.count });
    }
    this.family(name, 'histogram', help, samples);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** Counts of observations per bucket (each observation in the first bucket it fits). */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    const i = this.buckets.findIndex((le) => v <= le);
    if (i >= 0) this.counts[i]++;
  }
}
