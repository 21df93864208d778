/** The archival tasks (DESIGN.md §4); their handlers are in `workers/tasks/archive/`. */
import { isAbsolute } from 'node:path';
import { findDescription } from '../archive/descriptions.js';
import { isFileId } from '../files/index.js';
import { PUBLICATION_STATUSES } from '../archive/types.js';
import type { ParamSpec, TaskSpec } from './types.js';

/** The `--description` parameter every archival task takes. */
export const descriptionParam: ParamSpec = {
  type: 'string',
  required: true,
  description: 'the description: its slug or its id',
  maxLength: 200,
};

/** `objectRef` for the jobs page before the task has resolved the description. */
export function descriptionRef(params: Record<string, unknown>): string | null {
  const ref = params.description;
  return typeof ref === 'string' && ref !== '' ? `description:${ref.slice(0, 80)}` : null;
}

/** `--culture`: the language of a finding aid or an export ("fr", "pt_BR"); checked by the task. */
export const cultureParam: ParamSpec = {
  type: 'string',
  description: "the culture to write (\"fr\", \"pt_BR\"): its translation's values, the source culture's where it lacks one; default: the source culture",
  maxLength: 16,
};

/** The start of the unique key of every finding-aid job of a description. */
export const findingAidKeyPrefix = (descriptionId: number): string => `finding-aid:${descriptionId}:`;

export const FINDING_AID_FORMATS = ['pdf', 'rtf'] as const;
export const FINDING_AID_MODELS = ['inventory-summary', 'full-details'] as const;

export const findingAidSpec: TaskSpec = {
  name: 'finding-aid',
  title: 'Generate finding aid',
  description: 'Generates the finding aid (PDF or RTF) of a top-level description and its hierarchy.',
  params: {
    description: descriptionParam,
    format: { type: 'enum', values: FINDING_AID_FORMATS, default: 'pdf', description: 'pdf or rtf' },
    model: {
      type: 'enum',
      values: FINDING_AID_MODELS,
      default: 'inventory-summary',
      description: 'inventory-summary or full-details',
    },
    // AtoM generates finding aids as a public user by default (its "generate finding aid
    // as public user" setting): published descriptions only, physical storage hidden.
    public: {
      type: 'boolean',
      default: true,
      description: 'public: published descriptions only, physical storage hidden (default); --public false for the full one, drafts and storage included',
    },
    culture: cultureParam,
  },
  // Two requests for the same finding aid share one job: same description (a slug and an
  // id alike), format, model, public and culture. A request for another document is another job.
  async uniqueKey(p, db) {
    // No description, no key: the job fails on its own with "no such description".
    const d = await findDescription(db, String(p.description));
    if (!d) return null;
    const key = `${findingAidKeyPrefix(d.id)}${String(p.format)}:${String(p.model)}:${p.public ? 'public' : 'private'}`;
    return typeof p.culture === 'string' && p.culture !== '' ? `${key}:${p.culture}` : key;
  },
  objectRef: (p) => `description:${String(p.description).slice(0, 80)}`,
  timeLimitMs: { soft: 60 * 60_000, hard: 65 * 60_000 },
  // Its document is a stored file of the job: it goes when the job is cleared.
  files: () => [],
};

export const UPDATE_MODES = ['none', 'match-and-update', 'delete-and-replace'] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

/**
 * A failed import's result summary, "57 rows not imported": its page names the count on
 * the link to the CSV of those rows (notImportedCount reads it back).
 */
export function notImportedSummary(rows: number, detail: string): string {
  return `${rows} row${rows === 1 ? '' : 's'} not imported (${detail})`;
}

/** The count in a failed import's summary (notImportedSummary), or null. */
export function notImportedCount(summary: string | null): number | null {
  const m = /^(\d+) rows? not imported\b/.exec(summary ?? '');
  return m ? Number(m[1]) : null;
}

export const csvImportSpec: TaskSpec = {
  name: 'csv-import',
  title: 'Import CSV',
  description: "Imports archival descriptions from an AtoM ISAD(G) CSV file, with AtoM's update and matching options.",
  params: {
    file: {
      type: 'string',
      required: true,
      description: 'the CSV file: the command line uploads it from where it runs (older jobs: a path readable by the worker)',
      maxLength: 4096,
      upload: true,
    },
    update: {
      type: 'enum',
      values: UPDATE_MODES,
      default: 'none',
      description: 'none (import as new), match-and-update, or delete-and-replace',
    },
    skipMatched: {
      type: 'boolean',
      default: false,
      description: 'when importing as new, skip rows that match an existing description',
    },
    skipUnmatched: {
      type: 'boolean',
      default: false,
      description: 'when updating, skip rows that match no description instead of importing them as new',
    },
    limit: {
      type: 'string',
      description: 'match only under this top-level description (slug) or repository (name or slug)',
      maxLength: 500,
    },
    onError: {
      type: 'enum',
      values: ['skip', 'fail'],
      default: 'skip',
      description: 'a row whose parent cannot be found: skip it with a line (a parentId matching nothing: imported at the top level, as AtoM), or fail before writing anything',
    },
    sourceName: {
      type: 'string',
      description: 'name of the source for legacyId matching (default: the file name)',
      maxLength: 191,
    },
    corrects: {
      type: 'integer',
      min: 1,
      description: 'the failed import this one corrects (its job number), shown on both job pages',
    },
    strict: {
      type: 'boolean',
      default: false,
      description: 'refuse a file with columns this import does not know (by default they are ignored, as AtoM does, and listed at the top of the report)',
    },
    roundtrip: {
      type: 'boolean',
      default: false,
      description: "match rows on their legacyId as a description's id (a file exported from here); needs update or skipMatched",
    },
    defaultParentSlug: {
      type: 'string',
      description: 'the parent (its slug) of rows that name no parentId or qubitParentSlug',
      maxLength: 191,
    },
    defaultLegacyParentId: {
      type: 'string',
      description: 'the parent (a legacyId of this source) of rows that name no parentId or qubitParentSlug',
      maxLength: 191,
    },
    skipRows: {
      type: 'integer',
      default: 0,
      min: 0,
      description: 'skip this many rows after the header before importing',
    },
  },
  // A worker lost mid-import, or a job process that died (killed, out of memory), is
  // retried: the new attempt resumes after the last batch the earlier one committed (its
  // checkpoint), so no row is imported twice. A bad file fails at once (unrecoverable).
  maxAttempts: 3,
  retryOnError: { backoffMs: 1000 },
  // The upload stays with its job (a failed import can be retried); once the job goes, so
  // does the file. The store refuses any path outside its uploads folder, so an older
  // command-line job naming the administrator's own file never removes it.
  files(params) {
    const file = params.file;
    return typeof file === 'string' && (isFileId(file) || isAbsolute(file)) ? [file] : [];
  },
};

/** The options of a csv-import whose combinations are checked. */
export interface CsvImportChoices {
  update: UpdateMode;
  skipMatched: boolean;
  skipUnmatched: boolean;
  limit: string | null;
  roundtrip: boolean;
  defaultParentSlug: string | null;
  defaultLegacyParentId: string | null;
  skipRows: number;
}

/** How the command line names each option; the upload form passes its own labels. */
const CLI_NAMES: Record<keyof CsvImportChoices, string> = {
  update: '--update',
  skipMatched: '--skip-matched',
  skipUnmatched: '--skip-unmatched',
  limit: '--limit',
  roundtrip: '--roundtrip',
  defaultParentSlug: '--default-parent-slug',
  defaultLegacyParentId: '--default-legacy-parent-id',
  skipRows: '--skip-rows',
};

/**
 * What is wrong with a combination of csv-import options, or null. The worker refuses
 * the job with it (a job from the API, an older client); the upload form says it before
 * queueing, in its own labels.
 */
export function csvImportOptionProblem(o: CsvImportChoices, names: Record<keyof CsvImportChoices, string> = CLI_NAMES): string | null {
  const n = names;
  if (o.skipMatched && o.update !== 'none') {
    return `${n.skipMatched} applies only when importing as new (without ${n.update}): an update handles matched rows`;
  }
  if (o.skipUnmatched && o.update === 'none') {
    return `${n.skipUnmatched} applies only with ${n.update} match-and-update or delete-and-replace (it skips rows that match nothing)`;
  }
  if (o.limit && o.update === 'none' && !o.skipMatched) return `${n.limit} limits matching, so it needs ${n.update} or ${n.skipMatched}`;
  if (o.roundtrip && o.update === 'none' && !o.skipMatched) {
    return `${n.roundtrip} matches rows on their legacyId as a description's id, so it needs ${n.update} or ${n.skipMatched}`;
  }
  if (o.defaultParentSlug && o.defaultLegacyParentId) {
    return `give ${n.defaultParentSlug} or ${n.defaultLegacyParentId}, not both: each names the parent of rows that name none`;
  }
  if (!Number.isInteger(o.skipRows) || o.skipRows < 0) return `${n.skipRows} must be a whole number of rows, 0 or more (got "${String(o.skipRows)}")`;
  return null;
}

export const csvExportSpec: TaskSpec = {
  name: 'csv-export',
  title: 'Export CSV',
  description: 'Exports a description and its descendants as an AtoM ISAD(G) CSV file to download.',
  params: {
    description: descriptionParam,
    public: { type: 'boolean', default: false, description: 'published descriptions only' },
    culture: {
      ...cultureParam,
      description:
        "write this culture's values (the source culture's where a translation lacks one); without it, each translation follows its description as a row of its own, as AtoM exports",
    },
  },
  objectRef: descriptionRef,
  // Its CSV is a stored file of the job: it goes when the job is cleared.
  files: () => [],
};

export const publicationStatusSpec: TaskSpec = {
  name: 'publication-status',
  title: 'Update publication status',
  description: 'Sets the publication status (draft or published) of a description and, optionally, its descendants.',
  params: {
    description: descriptionParam,
    status: { type: 'enum', values: PUBLICATION_STATUSES, required: true, description: 'draft or published' },
    descendants: { type: 'boolean', default: false, description: 'also every description below it' },
  },
  objectRef: descriptionRef,
};

export const moveSpec: TaskSpec = {
  name: 'move',
  title: 'Move description',
  description: 'Moves a description, with its descendants, under a new parent description.',
  params: {
    description: descriptionParam,
    parent: { type: 'string', required: true, description: 'the new parent: its slug or its id', maxLength: 200 },
  },
  objectRef: descriptionRef,
};

export const archivalSpecs: TaskSpec[] = [findingAidSpec, csvImportSpec, csvExportSpec, publicationStatusSpec, moveSpec];
