/**
 * How much text a job's row and history keep. A task's error, result summary or
 * progress text can be anything it made up (a CSV header of 120,000 unknown columns gave
 * a 1.3 MB error): too long for its column on MariaDB, the write failed, the failure was
 * never recorded, and the job showed Running until "worker lost". Text is cut to fit,
 * with a notice saying how long it was, so that every change is recorded.
 *
 * The limits are in UTF-16 code units (JavaScript's length). A VARCHAR(n) counts
 * characters, never more than code units; a TEXT column holds 65,535 bytes, and a code
 * unit takes at most 3 bytes in UTF-8 (a pair taking 4), so 8,000 leave ample room.
 */

/** Largest text per column, by what the column holds (db/migrations). */
export const TEXT_LIMITS = {
  /** `jobs.error`, TEXT. */
  error: 8000,
  /** `job_events.message`, TEXT. */
  message: 8000,
  /** `jobs.result_summary`, VARCHAR(500). */
  resultSummary: 500,
  /** `jobs.progress_text`, VARCHAR(255). */
  progressText: 255,
} as const;

// Made on first use: building a number format costs tens of ms (ICU's data), which
// every `docket` command would pay at start-up for a notice it rarely writes.
let count: Intl.NumberFormat | null = null;

/**
 * The text as it is when it fits in `max`; otherwise its start and a notice:
 * "… (1,234,567 characters, cut)". Never longer than `max`, never a broken pair.
 */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const notice = `… (${(count ??= new Intl.NumberFormat('en-US')).format(text.length)} characters, cut)`;
  let end = Math.max(0, max - notice.length);
  // A cut between the two halves of a surrogate pair would leave half a character.
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return (text.slice(0, end) + notice).slice(0, max);
}

/** capText for a value that may be absent. */
export function capOptional(text: string | null | undefined, max: number): string | null {
  return text === null || text === undefined ? null : capText(text, max);
}
