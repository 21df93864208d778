/**
 * Bytes kept in the jobs database as `file_chunks` rows, so that every host that
 * reaches the database reaches the file. Both directions stream: a put inserts each
 * chunk as it fills and reads no further until the insert is done (backpressure), a
 * get reads one chunk per query as the consumer asks for more.
 */
import { Readable } from 'node:stream';
import type { Db } from '../db.js';
import { coerceError, NotFoundError } from '../errors.js';
import { deleteChunks, insertChunk, readChunk } from '../store/file-chunks.js';
import type { BlobBackend } from './blobs.js';

/** See the migration for why 256 KiB (max_allowed_packet, redo log size). */
export const CHUNK_BYTES = 256 * 1024;

export function databaseBlobs(db: Db): BlobBackend {
  return {
    name: 'database',
    async write(id, pieces) {
      let buf = Buffer.allocUnsafe(CHUNK_BYTES);
      let fill = 0;
      let seq = 0;
      for await (const piece of pieces) {
        let off = 0;
        while (off < piece.length) {
          const n = Math.min(CHUNK_BYTES - fill, piece.length - off);
          piece.copy(buf, fill, off, off + n);
          fill += n;
          off += n;
          if (fill === CHUNK_BYTES) {
            await insertChunk(db, id, seq++, buf);
            buf = Buffer.allocUnsafe(CHUNK_BYTES);
            fill = 0;
          }
        }
      }
      if (fill > 0) await insertChunk(db, id, seq, buf.subarray(0, fill));
    },
    async open(file) {
      let seq = 0;
      let sent = 0;
      // The next chunk is asked for while the consumer takes this one, so that a round
      // trip to the database is not paid between chunks: two chunks in memory at most.
      let ahead: Promise<Buffer | null> | null = null;
      const fetch = (n: number): Promise<Buffer | null> => {
        const p = readChunk(db, file.id, n);
        // Handled here too: a stream destroyed early never awaits its read-ahead.
        p.catch(() => undefined);
        return p;
      };
      return new Readable({
        // One chunk is larger than the default high-water mark, so read() is called
        // again only once the consumer has taken it.
        async read() {
          try {
            if (sent >= file.size) {
              this.push(null);
              return;
            }
            const data = await (ahead ?? fetch(seq));
            seq++;
            if (!data) throw new NotFoundError(`"${file.name}" was removed while it was read`);
            sent += data.length;
            if (sent > file.size) throw new Error(`file ${file.id} holds more bytes than its recorded size ${file.size}`);
            ahead = sent < file.size ? fetch(seq) : null;
            this.push(data);
          } catch (err) {
            this.destroy(coerceError(err));
          }
        },
      });
    },
    async remove(id) {
      await deleteChunks(db, id);
    },
    async sweepStrays() {
      return 0;
    },
  };
}
