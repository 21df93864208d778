/**
 * `node --import tsx bench/description-lists.ts [--base DIR] [--rows 20000] [--rounds 5]`
 *
 * CPU time per description of what an export and a page pay for the lists: reading a
 * stored row (`rowToDescription`: the JSON of `extra` and `events`) and writing its CSV
 * row (`exportRow`: the `a|b` cells made back from the lists). The rows are the AtoM ISAD
 * example's fonds, with every repeatable field filled.
 *
 * With `--base DIR` (a checkout of the release before the lists), the same is measured
 * there on the row as it stored it (`a|b` text), the two alternating round by round in
 * one process, so that the ratio holds on a busy machine.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    rows: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);

interface Tree {
  rowToDescription: (r: Record<string, unknown>) => unknown;
  exportRow: (d: unknown, columns: readonly string[], place: { parentId: number | null; qubitParentSlug: string | null }) => string[];
  columns: readonly string[];
  stored: Record<string, unknown>;
}

const source = parse(readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'atom', 'example_information_objects_isad.csv')), {
  columns: true,
}) as Array<Record<string, string>>;
const cells = new Map(Object.entries(source[0]));

async function load(root: string, lists: boolean): Promise<Tree> {
  const d = (await import(join(root, 'app/archive/descriptions.ts'))) as { rowToDescription: Tree['rowToDescription'] };
  const c = (await import(join(root, 'app/archive/csv-columns.ts'))) as {
    exportRow: Tree['exportRow'];
    EXPORT_COLUMNS: readonly string[];
    rowFields: (row: Map<string, string>) => unknown;
    newFields: (f: unknown) => Record<string, unknown>;
  };
  const f = c.newFields(c.rowFields(cells));
  const own = {
    id: 1,
    parent_id: null,
    position: 0,
    slug: 'example-fonds',
    identifier: f.identifier,
    title: f.title,
    level_of_description: f.levelOfDescription,
    extent_and_medium: f.extentAndMedium,
    scope_and_content: f.scopeAndContent,
    repository: f.repository,
    publication_status: f.publicationStatus,
    culture: f.culture,
    created_at: 0,
    updated_at: 0,
  };
  let stored: Record<string, unknown>;
  if (lists) {
    const r = (await import(join(root, 'app/archive/repeatable.ts'))) as {
      storedExtra: (x: unknown) => string | null;
      storedEvents: (x: unknown) => string | null;
    };
    stored = { ...own, extra: r.storedExtra(f), events: r.storedEvents(f.events) };
  } else {
    stored = {
      ...own,
      extra: JSON.stringify(f.extra),
      event_dates: f.eventDates,
      event_start_dates: f.eventStartDates,
      event_end_dates: f.eventEndDates,
    };
  }
  return { rowToDescription: d.rowToDescription, exportRow: c.exportRow, columns: c.EXPORT_COLUMNS, stored };
}

/** CPU microseconds per description for `ROWS` reads and export rows. */
function measure(t: Tree): number {
  const start = process.cpuUsage();
  let n = 0;
  for (let i = 0; i < ROWS; i++) {
    const d = t.rowToDescription({ ...t.stored, id: i + 1 });
    n += t.exportRow(d, t.columns, { parentId: null, qubitParentSlug: null }).length;
  }
  const used = process.cpuUsage(start);
  if (n === 0) throw new Error('no cells written');
  return (used.user + used.system) / ROWS;
}

const here = await load(resolve(import.meta.dirname, '..'), true);
const base = args.base ? await load(resolve(args.base), false) : null;
// The cells both write must be the same: the lists change storage, not the export.
if (base) {
  const a = here.exportRow(here.rowToDescription(here.stored), here.columns, { parentId: null, qubitParentSlug: null });
  const b = base.exportRow(base.rowToDescription(base.stored), base.columns, { parentId: null, qubitParentSlug: null });
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the export rows differ:\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
}
measure(here); // warm-up
if (base) measure(base);
const times: { lists: number[]; text: number[] } = { lists: [], text: [] };
for (let round = 0; round < ROUNDS; round++) {
  times.lists.push(measure(here));
  if (base) times.text.push(measure(base));
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
console.log(`read + export row, CPU µs per description (median of ${ROUNDS} rounds of ${ROWS}):`);
console.log(`  lists (this tree): ${median(times.lists).toFixed(2)}  [${times.lists.map((t) => t.toFixed(2)).join(', ')}]`);
if (base) {
  console.log(`  a|b text (base):   ${median(times.text).toFixed(2)}  [${times.text.map((t) => t.toFixed(2)).join(', ')}]`);
  console.log(`  ratio lists / text: ${(median(times.lists) / median(times.text)).toFixed(2)}`);
  console.log(`  stored bytes: lists ${JSON.stringify(here.stored).length}, text ${JSON.stringify(base.stored).length}`);
}
