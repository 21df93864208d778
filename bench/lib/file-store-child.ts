/**
 * One file through the file store, in a process of its own so that its peak memory is
 * the store's: puts MB mebibytes (generated, never held whole) and reads them back,
 * checking the SHA-256. Prints one JSON line: seconds each way, RSS before and peak.
 * Usage: DATABASE_URL=... DOCKET_FILE_STORE=database|folder node --import tsx bench/lib/file-store-child.ts MB
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../app/config.js';
import { openDb } from '../../app/db.js';
import { createFileStore } from '../../app/files/index.js';

const mb = Number(process.argv[2]);
if (!Number.isInteger(mb) || mb < 1) {
  process.stderr.write('usage: file-store-child.ts MB\n');
  process.exit(2);
}

/** VmHWM/VmRSS of this process, in bytes. */
function mem(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const config = loadConfig();
const db = openDb(config.database, { pool: 2 });
const store = createFileStore(config, db);
// One random mebibyte, varied per piece by its index, so the stream is not one block repeated.
const block = randomBytes(1024 * 1024);
const sent = createHash('sha256');
async function* source(hash = createHash('sha256')): AsyncGenerator<Buffer> {
  for (let i = 0; i < mb; i++) {
    const piece = Buffer.from(block);
    piece.writeUInt32LE(i, 0);
    hash.update(piece);
    yield piece;
  }
}

try {
  // A warm-up that stops at its limit: connections open and code loaded before measuring.
  await store.put(source(), { jobId: 1, kind: 'upload', name: 'warm-up.bin', contentType: 'application/octet-stream', maxBytes: 1024 * 1024 }).catch(() => undefined);
  const rssBefore = mem('VmRSS');
  let t = process.hrtime.bigint();
  const file = await store.put(source(sent), { jobId: 1, kind: 'result', name: 'big.bin', contentType: 'application/octet-stream', maxBytes: mb * 1024 * 1024 });
  const upSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const got = await store.get(file.id);
  const back = createHash('sha256');
  let bytes = 0;
  for await (const chunk of got.stream) {
    back.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const downSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const sameBytes = bytes === mb * 1024 * 1024 && back.digest('hex') === sent.digest('hex');
  await store.delete(file.id);
  process.stdout.write(`${JSON.stringify({ store: store.kind, mb, upSeconds, downSeconds, rssBefore, peakRss: mem('VmHWM'), sameBytes })}\n`);
} finally {
  await db.destroy();
}
