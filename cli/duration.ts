import { UsageError } from './usage.js';

const UNIT_MS = { h: 3600 * 1000, d: 24 * 3600 * 1000 } as const;

/** `90d`, `12h`: a length of time in hours or days, in milliseconds; anything else is a usage error. */
export function parseDuration(raw: string, option: string): number {
  const m = /^([1-9]\d{0,5})([dh])$/.exec(raw.trim());
  if (!m) throw new UsageError(`${option} takes a number of days or hours such as 90d or 12h, not "${raw}"`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
