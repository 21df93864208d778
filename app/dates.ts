/**
 * Dates as text, fast: the jobs page shows three per row and the CSV export writes three
 * per job (three million for a million jobs), and `new Date(ms).toISOString()` costs
 * about a microsecond each. The day's part is cut once per day seen; the time of day is
 * plain arithmetic. Same output as `toISOString()`; anything unusual goes through it.
 */
const DAY_MS = 86_400_000;
/** Years 1970–9999: four-digit years, the same form as toISOString's. */
const MAX_MS = 253_402_300_799_999;

let lastDay = NaN;
let lastDate = '';

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** "2026-11-22" of a day number (days since 1970-01-01), the last one kept. */
function dayText(day: number): string {
  if (day !== lastDay) {
    lastDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDate;
}

const plain = (ms: number): boolean => Number.isInteger(ms) && ms >= 0 && ms <= MAX_MS;

/** "14:03:09" and the milliseconds left, of a time of day in milliseconds. */
function clock(t: number): [string, number] {
  const h = Math.floor(t / 3_600_000);
  t -= h * 3_600_000;
  const m = Math.floor(t / 60_000);
  t -= m * 60_000;
  const s = Math.floor(t / 1000);
  return [`${pad2(h)}:${pad2(m)}:${pad2(s)}`, t - s * 1000];
}

/** "2026-11-22T14:03:09.123Z" (UTC), as `new Date(ms).toISOString()`. */
export function isoUtc(ms: number): string {
  if (!plain(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  const [time, rest] = clock(ms - day * DAY_MS);
  return `${dayText(day)}T${time}.${pad3(rest)}Z`;
}

/** "2026-11-22 14:03:09" (UTC, to the second), as `isoUtc` cut and joined by a space. */
export function secondsUtc(ms: number): string {
  if (!plain(ms)) {
    const iso = new Date(ms).toISOString();
    return `${iso.slice(0, -14)} ${iso.slice(-13, -5)}`;
  }
  const day = Math.floor(ms / DAY_MS);
  return `${dayText(day)} ${clock(ms - day * DAY_MS)[0]}`;
}
