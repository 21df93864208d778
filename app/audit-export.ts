/** The audit trail as CSV, streamed from keyset pages (never the whole table in memory). */
import type { Writable } from 'node:stream';
import { isoUtc } from './dates.js';
import type { Db } from './db.js';
import { csvField, endStream, safeCell, write } from './export.js';
import { auditPage, type AuditEntry, type AuditQuery } from './store/audit.js';

export const AUDIT_CSV_COLUMNS = ['time', 'actor', 'address', 'action', 'target', 'detail', 'id'];
const PAGE = 1000;

export function auditCsvLine(e: AuditEntry): string {
  const cells = [isoUtc(e.at), e.actor, e.address ?? '', e.action, e.target ?? '', e.detail ?? '', String(e.id)];
  return `${cells.map((c) => csvField(safeCell(c))).join(',')}\n`;
}

/** Writes the header and every entry matching `q`, newest first; returns how many. */
export async function writeAuditCsv(db: Db, q: Omit<AuditQuery, 'after' | 'limit'>, out: Writable): Promise<number> {
  let n = 0;
  try {
    await write(out, `${AUDIT_CSV_COLUMNS.join(',')}\n`);
    let after: number | null = null;
    for (;;) {
      const page = await auditPage(db, { ...q, after, limit: PAGE });
      if (page.entries.length) await write(out, page.entries.map(auditCsvLine).join(''));
      n += page.entries.length;
      if (page.next === null) break;
      after = page.next;
    }
    await endStream(out);
  } catch (err) {
    out.destroy(err as Error);
    throw err;
  }
  return n;
}
