/**
 * What the "New job" form says about each parameter: a label in words and a help line
 * that starts with a capital, from the task's spec; and the check the description pages
 * make before a job is created (a description that does not exist is refused on the
 * form, not discovered by a worker as a failed job).
 */
import type { Db } from '../db.js';
import { findDescription } from '../archive/descriptions.js';
import { BadRequestError } from '../errors.js';
import type { ParamSpec, TaskSpec } from '../tasks/index.js';

/** Labels for the parameters whose names are not words ("skipMatched"), or say too little ("public"). */
const LABELS: Record<string, string> = {
  description: 'Description',
  parent: 'New parent description',
  format: 'File format',
  model: 'Finding aid model',
  public: 'Published descriptions only',
  status: 'Publication status',
  descendants: 'Also the descriptions below it',
  update: 'Update mode',
  skipMatched: 'Skip matched records',
  skipUnmatched: 'Skip unmatched records',
  limit: 'Limit matching to',
  onError: 'When a row is bad',
  sourceName: 'Source name',
  corrects: 'Corrects job',
  seconds: 'Seconds to wait',
  fail: 'Fail at the end',
  lines: 'Number of lines',
  width: 'Padding width',
  stderr: 'Every tenth line to the error stream',
  exit: 'Exit code',
  delay: 'Delay between lines (ms)',
  pid: 'Print the process id first',
  leak: 'Memory to keep (MB)',
};

/** Words for enum values shown in lists ("inventory-summary" reads "Inventory summary"). */
export function valueLabel(v: string): string {
  if (['pdf', 'rtf', 'csv'].includes(v)) return v.toUpperCase();
  const words = v.replace(/[-_]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "skipMatched" → "Skip matched", unless the table above has better words. */
export function paramLabel(name: string): string {
  if (LABELS[name]) return LABELS[name];
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The spec's description as a sentence. */
export function paramHelp(spec: ParamSpec): string {
  const d = spec.description.trim();
  const s = d.charAt(0).toUpperCase() + d.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** Parameters that name a description (picked from a list on the form). */
export const DESCRIPTION_PARAMS = ['description', 'parent'];

export const isDescriptionParam = (task: TaskSpec, name: string): boolean =>
  DESCRIPTION_PARAMS.includes(name) && task.params[name]?.type === 'string';

/** A 400 naming the first description parameter whose description does not exist. */
export async function assertDescriptionsExist(db: Db, task: TaskSpec, params: Record<string, unknown>): Promise<void> {
  for (const name of Object.keys(task.params)) {
    const v = params[name];
    if (!isDescriptionParam(task, name) || typeof v !== 'string' || v.trim() === '') continue;
    if (!(await findDescription(db, v.trim()))) {
      throw new BadRequestError(`There is no description "${v.slice(0, 80)}". Pick one from the list (type a few letters of its title).`);
    }
  }
}
