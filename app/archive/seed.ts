/**
 * Demo data for a fresh installation: two small fonds, so that a newcomer can try every
 * archival task at once (browse, export, finding aids, publication status, moves).
 * Inserted only while the descriptions table is empty, so a real archive is never touched.
 */
import type { Db } from '../db.js';
import { countDescriptions, insertDescription, writeTransaction } from './descriptions.js';
import { setColumn, type Repeatable } from './repeatable.js';
import { SlugAllocator } from './slug.js';
import type { DescriptionFields, PublicationStatus } from './types.js';

interface Demo {
  identifier: string;
  title: string;
  level: string;
  status: PublicationStatus;
  dates?: string;
  extent?: string;
  scope?: string;
  /** Other columns, as an AtoM CSV cell (`a|b` for a list). */
  extra?: Record<string, string>;
  children?: Demo[];
}

const REPOSITORY = 'Docket Demonstration Archives';

const DEMO: Demo[] = [
  {
    identifier: 'HC',
    title: 'Harbour Commission fonds',
    level: 'Fonds',
    status: 'published',
    dates: '1890-1952',
    extent: '4.2 m of textual records; 310 photographs',
    scope:
      'Records of the commission that built and ran the harbour: minutes of its meetings, ' +
      'correspondence with the ministry and the town, and photographs of the works.',
    extra: {
      archivalHistory: 'Kept by the harbour master until the commission was dissolved in 1952, then transferred.',
      arrangement: 'Arranged in three series by kind of record.',
      accessConditions: 'Open for research.',
      language: 'en|fr',
      subjectAccessPoints: 'Harbours|Public works',
      eventActors: 'Harbour Commission',
      eventTypes: 'Creation',
    },
    children: [
      {
        identifier: '01',
        title: 'Minutes',
        level: 'Series',
        status: 'published',
        dates: '1890-1952',
        extent: '12 volumes',
        children: [
          {
            identifier: '01',
            title: 'Minute book, 1890-1899',
            level: 'File',
            status: 'published',
            dates: '1890-1899',
            children: [
              { identifier: '001', title: 'Minutes of the first meeting', level: 'Item', status: 'published', dates: '1890-03-14' },
              { identifier: '002', title: 'Resolution to build the north pier', level: 'Item', status: 'published', dates: '1891-06-02' },
            ],
          },
          { identifier: '02', title: 'Minute book, 1900-1914', level: 'File', status: 'draft', dates: '1900-1914' },
        ],
      },
      {
        identifier: '02',
        title: 'Correspondence',
        level: 'Series',
        status: 'published',
        dates: '1895-1950',
        children: [
          {
            identifier: '01',
            title: 'Letters from the ministry',
            level: 'File',
            status: 'published',
            dates: '1895-1920',
            children: [
              { identifier: '001', title: 'Letter about the new breakwater', level: 'Item', status: 'published', dates: '1903' },
              { identifier: '002', title: 'Letter on dredging costs', level: 'Item', status: 'draft', dates: '1907' },
            ],
          },
        ],
      },
      {
        identifier: '03',
        title: 'Photographs',
        level: 'Series',
        status: 'draft',
        dates: '1898-1938',
        extent: '310 photographic prints',
        children: [
          { identifier: '001', title: 'The harbour in winter', level: 'Item', status: 'draft', dates: '1911' },
          { identifier: '002', title: 'Opening of the east quay', level: 'Item', status: 'draft', dates: '1926-05-01' },
        ],
      },
    ],
  },
  {
    identifier: 'FC',
    title: 'Ferry Company records',
    level: 'Fonds',
    status: 'draft',
    dates: '1921-1968',
    extent: '1.1 m of textual records',
    scope: 'Timetables, ticket ledgers and staff records of the ferry across the bay.',
    children: [
      {
        identifier: '01',
        title: 'Timetables',
        level: 'Series',
        status: 'draft',
        children: [
          { identifier: '01', title: 'Summer timetables', level: 'File', status: 'draft', dates: '1921-1968' },
          { identifier: '02', title: 'Winter timetables', level: 'File', status: 'draft', dates: '1921-1968' },
        ],
      },
    ],
  },
];

/**
 * Inserts the demo descriptions when there are none yet; returns how many it inserted
 * (0 when the table already had descriptions). One transaction: all or nothing.
 */
export async function seedDemoData(db: Db): Promise<number> {
  if ((await countDescriptions(db)) > 0) return 0;
  const slugs = new SlugAllocator();
  return writeTransaction(db, async (trx) => {
    // Checked again inside the transaction: two processes starting at once seed once.
    if ((await countDescriptions(trx)) > 0) return 0;
    let n = 0;
    const add = async (d: Demo, parentId: number | null, position: number): Promise<void> => {
      const [slug] = await slugs.allocate(trx, [d.title]);
      const r: Repeatable = { events: [], alternativeIdentifiers: [], lists: {}, extra: {} };
      for (const [column, value] of Object.entries({ eventDates: d.dates ?? '', ...d.extra })) setColumn(r, column, value);
      const fields: DescriptionFields = {
        identifier: d.identifier,
        title: d.title,
        levelOfDescription: d.level,
        extentAndMedium: d.extent ?? null,
        scopeAndContent: d.scope ?? null,
        repository: parentId === null ? REPOSITORY : null,
        publicationStatus: d.status,
        culture: 'en',
        ...r,
      };
      const id = await insertDescription(trx, { ...fields, parentId, position, slug });
      n++;
      for (const [i, c] of (d.children ?? []).entries()) await add(c, id, i);
    };
    for (const [i, d] of DEMO.entries()) await add(d, null, i);
    return n;
  });
}
