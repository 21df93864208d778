/**
 * The file store on SQLite and MariaDB, with each backend (database chunks, this host's
 * folder): bytes come back as they went in, limits and aborts leave nothing behind, and
 * no reader sees a file before it is complete.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Context } from '../../app/context.js';
import { NotFoundError, PayloadTooLargeError } from '../../app/errors.js';
import { CHUNK_BYTES } from '../../app/files/database-blobs.js';
import { filesDir } from '../../app/files/folder-blobs.js';
import { createFileStore, type FileStore, type PutOptions } from '../../app/files/index.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';

const dbKinds = [...new Set(backends().map((b) => b.db))];

/** `data` in pieces of `piece` bytes, as a socket or a file would deliver it. */
async function* pieces(data: Buffer, piece: number, counter?: { pulled: number }): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += piece) {
    if (counter) counter.pulled++;
    yield data.subarray(off, off + piece);
  }
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  return Buffer.concat((await stream.toArray()) as Buffer[]);
}

const opts = (o: Partial<PutOptions> = {}): PutOptions => ({
  jobId: 1,
  kind: 'result',
  name: 'report.csv',
  contentType: 'text/csv',
  maxBytes: 10 * 1024 * 1024,
  ...o,
});

for (const db of dbKinds) {
  for (const kind of ['database', 'folder'] as const) {
    describe(`file store: ${kind} backend on ${db === 'mysql' ? 'MariaDB' : 'SQLite'}`, function () {
      let env: TestEnv;
      let ctx: Context;
      let store: FileStore;
      before(async function () {
        if (db === 'mysql') await requireService(this, 'mysql');
        env = await makeTestEnv({ db, transport: 'db' }, { DOCKET_FILE_STORE: kind });
        ctx = await env.context();
        store = createFileStore(ctx.config, ctx.db);
        expect(store.kind).to.equal(kind);
      });
      after(async () => env?.cleanup());

      /** Rows and bytes left anywhere, for "leaves nothing behind". */
      async function leftovers(): Promise<{ files: number; chunks: number; onDisk: string[] }> {
        const files = Number(((await ctx.db('files').count({ n: '*' }).first()) as { n: number }).n);
        const chunks = Number(((await ctx.db('file_chunks').count({ n: '*' }).first()) as { n: number }).n);
        const dir = filesDir(ctx.config.resultsDir);
        return { files, chunks, onDisk: existsSync(dir) ? readdirSync(dir) : [] };
      }
      const nothing = { files: 0, chunks: 0, onDisk: [] };

      afterEach(async () => {
        await ctx.db('file_chunks').delete();
        await ctx.db('files').delete();
        rmSync(filesDir(ctx.config.resultsDir), { recursive: true, force: true });
      });

      it('gives back a multi-chunk file byte for byte, with its size, name and type', async () => {
        const data = randomBytes(CHUNK_BYTES * 3 + 12_345);
        // Pieces that do not divide the chunk size, to cross chunk borders mid-piece.
        const put = await store.put(pieces(data, 100_003), opts({ jobId: 7, name: 'Fonds 1 – inventaire.pdf', contentType: 'application/pdf' }));
        expect(put).to.include({ jobId: 7, kind: 'result', name: 'Fonds 1 – inventaire.pdf', contentType: 'application/pdf', size: data.length });
        expect(put.id).to.match(/^f[0-9a-f]{32}$/);
        const got = await store.get(put.id);
        expect(got).to.include({ id: put.id, jobId: 7, size: data.length, name: 'Fonds 1 – inventaire.pdf', contentType: 'application/pdf' });
        expect((await bytesOf(got.stream)).equals(data)).to.equal(true);
        // Where the bytes are: four chunk rows, or one file in the folder.
        const left = await leftovers();
        if (kind === 'database') expect(left).to.deep.equal({ files: 1, chunks: 4, onDisk: [] });
        else expect(left).to.deep.equal({ files: 1, chunks: 0, onDisk: [put.id] });
      });

      it('keeps an empty file, and a file of exactly one chunk', async () => {
        const empty = await store.put(pieces(Buffer.alloc(0), 1), opts({ name: 'empty.csv' }));
        expect((await bytesOf((await store.get(empty.id)).stream)).length).to.equal(0);
        const one = randomBytes(CHUNK_BYTES);
        const put = await store.put(Readable.from([one]), opts());
        expect((await bytesOf((await store.get(put.id)).stream)).equals(one)).to.equal(true);
      });

      it('refuses a file over its limit while it streams, and leaves nothing behind', async () => {
        const counter = { pulled: 0 };
        const data = randomBytes(2 * 1024 * 1024);
        const err = await store.put(pieces(data, 64 * 1024, counter), opts({ maxBytes: 600_000 })).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(PayloadTooLargeError);
        expect((err as PayloadTooLargeError).status).to.equal(413);
        expect((err as Error).message).to.equal('"report.csv" is larger than the limit of 600000 bytes');
        // It stopped at the piece that crossed the limit (the 10th of 32), not at the end.
        expect(counter.pulled).to.equal(10);
        expect(await leftovers()).to.deep.equal(nothing);
        expect(await store.list(1)).to.deep.equal([]);
      });

      it('leaves nothing behind when the source fails midway (an aborted upload)', async () => {
        const source = new PassThrough();
        const putting = store.put(source, opts({ kind: 'upload', jobId: null }));
        source.write(randomBytes(CHUNK_BYTES + 1000));
        await waitUntil(async () => (await leftovers()).chunks > 0 || (await leftovers()).onDisk.length > 0, 5000, 'the first bytes stored');
        source.destroy(new Error('aborted'));
        const err = await putting.then(
          () => null,
          (e: unknown) => e,
        );
        expect((err as Error).message).to.equal('aborted');
        expect(await leftovers()).to.deep.equal(nothing);
      });

      it('shows no reader a file until it is complete', async () => {
        const source = new PassThrough();
        const data = randomBytes(CHUNK_BYTES * 2 + 5);
        const putting = store.put(source, opts({ jobId: 3 }));
        source.write(data.subarray(0, CHUNK_BYTES + 10));
        const id = await waitUntil(async () => ((await ctx.db('files').first('id')) as { id: string } | undefined)?.id, 5000, 'the row');
        await waitUntil(async () => (await leftovers()).chunks > 0 || (await leftovers()).onDisk.length > 0, 5000, 'the first bytes stored');
        const during = await store.get(id).then(
          () => null,
          (e: unknown) => e,
        );
        expect(during).to.be.instanceOf(NotFoundError);
        expect(await store.list(3)).to.deep.equal([]);
        source.end(data.subarray(CHUNK_BYTES + 10));
        const put = await putting;
        expect(put.id).to.equal(id);
        expect((await bytesOf((await store.get(id)).stream)).equals(data)).to.equal(true);
        expect((await store.list(3)).map((f) => f.id)).to.deep.equal([id]);
      });

      it('lists and deletes by job, and deletes one file', async () => {
        const a = await store.put(Readable.from([Buffer.from('a,b\n1,2\n')]), opts({ jobId: 11, kind: 'upload', name: 'in.csv' }));
        const b = await store.put(Readable.from([randomBytes(CHUNK_BYTES + 1)]), opts({ jobId: 11, name: 'out.pdf', contentType: 'application/pdf' }));
        const c = await store.put(Readable.from([Buffer.from('other')]), opts({ jobId: 12 }));
        expect((await store.list(11)).map((f) => [f.id, f.kind, f.name, f.size])).to.have.deep.members([
          [a.id, 'upload', 'in.csv', 8],
          [b.id, 'result', 'out.pdf', CHUNK_BYTES + 1],
        ]);
        expect(await store.delete(a.id)).to.equal(true);
        expect(await store.delete(a.id)).to.equal(false);
        expect((await store.list(11)).map((f) => f.id)).to.deep.equal([b.id]);
        expect(await store.deleteJobFiles(11)).to.equal(1);
        expect(await store.list(11)).to.deep.equal([]);
        await store.get(b.id).then(
          () => expect.fail('a deleted file was found'),
          (e: unknown) => expect(e).to.be.instanceOf(NotFoundError),
        );
        // The other job's file is untouched, and it alone is left.
        expect((await bytesOf((await store.get(c.id)).stream)).toString()).to.equal('other');
        const left = await leftovers();
        expect(left.files).to.equal(1);
        expect(left.chunks).to.equal(kind === 'database' ? 1 : 0);
        expect(left.onDisk).to.deep.equal(kind === 'folder' ? [c.id] : []);
      });

      it('answers NotFound for an id it does not have, and for names outside the results folder', async () => {
        for (const id of [`f${'0'.repeat(32)}`, 'nope.csv', '../etc/passwd', '/etc/passwd', '.hidden']) {
          const err = await store.get(id).then(
            () => null,
            (e: unknown) => e,
          );
          expect(err, id).to.be.instanceOf(NotFoundError);
        }
      });

      it('reads and deletes the files the results folder held before the store', async () => {
        const dir = ctx.config.resultsDir;
        mkdirSync(join(dir, 'uploads'), { recursive: true });
        writeFileSync(join(dir, '0123abcd.pdf'), 'legacy pdf');
        writeFileSync(join(dir, 'uploads', '99ff.csv'), 'a,b\n');
        const result = await store.get('0123abcd.pdf');
        expect(result).to.include({ id: '0123abcd.pdf', jobId: null, kind: 'result', name: '0123abcd.pdf', contentType: 'application/pdf', size: 10 });
        expect((await bytesOf(result.stream)).toString()).to.equal('legacy pdf');
        const upload = await store.get(join(dir, 'uploads', '99ff.csv'));
        expect(upload).to.include({ kind: 'upload', contentType: 'text/csv', size: 4 });
        await bytesOf(upload.stream);
        expect(await store.delete('0123abcd.pdf')).to.equal(true);
        expect(existsSync(join(dir, '0123abcd.pdf'))).to.equal(false);
      });

      it('gives an unassigned upload to its job; sweeps crashed and unclaimed files after an hour', async () => {
        const claimed = await store.put(Readable.from([Buffer.from('x')]), opts({ jobId: null, kind: 'upload' }));
        const unclaimed = await store.put(Readable.from([Buffer.from('y')]), opts({ jobId: null, kind: 'upload' }));
        await store.assign(claimed.id, 21);
        expect((await store.list(21)).map((f) => f.id)).to.deep.equal([claimed.id]);
        // A put still running when the sweep comes: an hour idle, it is taken as crashed.
        const source = new PassThrough();
        const putting = store.put(source, opts({ jobId: 22 }));
        source.write(randomBytes(CHUNK_BYTES + 1));
        await waitUntil(async () => (await leftovers()).chunks > 0 || (await leftovers()).onDisk.some((n) => n.endsWith('.part')), 5000, 'bytes');
        expect(await store.sweepAbandoned({ now: Date.now() + 30 * 60_000 })).to.equal(0);
        expect(await store.sweepAbandoned({ now: Date.now() + 3_600_001 })).to.equal(2);
        source.end(Buffer.from('late'));
        await putting.then(
          () => expect.fail('a swept upload was completed'),
          (e: unknown) => expect((e as Error).message).to.equal('"report.csv" was removed while it was written'),
        );
        await store.get(unclaimed.id).then(
          () => expect.fail('an unclaimed upload survived the sweep'),
          (e: unknown) => expect(e).to.be.instanceOf(NotFoundError),
        );
        expect((await bytesOf((await store.get(claimed.id)).stream)).toString()).to.equal('x');
        expect((await leftovers()).files).to.equal(1);
        await store.assign(unclaimed.id, 21).then(
          () => expect.fail('assigned a swept file'),
          (e: unknown) => expect(e).to.be.instanceOf(NotFoundError),
        );
      });

      it('refuses bad put options with a clear message', async () => {
        const bad: Array<[Partial<PutOptions>, string]> = [
          [{ name: '../x.csv' }, 'a file name must be 1 to 255 characters, without folders or control characters'],
          [{ name: '' }, 'a file name must be 1 to 255 characters, without folders or control characters'],
          [{ contentType: 'csv' }, '"csv" is not a content type (such as text/csv)'],
          [{ jobId: 0 }, "a file's job id must be a positive whole number, not 0"],
          [{ kind: 'log' as 'upload' }, 'a file\'s kind must be upload or result, not "log"'],
        ];
        for (const [o, message] of bad) {
          await store.put(Readable.from([Buffer.from('x')]), opts(o)).then(
            () => expect.fail(`accepted ${JSON.stringify(o)}`),
            (e: unknown) => expect((e as Error).message).to.equal(message),
          );
        }
        expect(await leftovers()).to.deep.equal(nothing);
      });
    });
  }

  describe(`file store on ${db === 'mysql' ? 'MariaDB' : 'SQLite'}: a change of DOCKET_FILE_STORE`, function () {
    let env: TestEnv;
    let ctx: Context;
    before(async function () {
      if (db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv({ db, transport: 'db' });
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    it('reads files written by the other backend, from where their row says', async () => {
      const folder = createFileStore({ ...ctx.config, fileStore: 'folder' }, ctx.db);
      const database = createFileStore({ ...ctx.config, fileStore: 'database' }, ctx.db);
      const inFolder = await folder.put(Readable.from([Buffer.from('on disk')]), opts());
      const inDb = await database.put(Readable.from([Buffer.from('in rows')]), opts());
      expect((await bytesOf((await database.get(inFolder.id)).stream)).toString()).to.equal('on disk');
      expect((await bytesOf((await folder.get(inDb.id)).stream)).toString()).to.equal('in rows');
      // Another host (another results folder) has the row but not the bytes: a clear 404.
      const elsewhere = createFileStore({ fileStore: 'database', resultsDir: join(ctx.config.resultsDir, 'other-host') }, ctx.db);
      await elsewhere.get(inFolder.id).then(
        () => expect.fail('read bytes this host does not have'),
        (e: unknown) => {
          expect(e).to.be.instanceOf(NotFoundError);
          expect((e as Error).message).to.equal(`"report.csv" is not in this host's results folder (written by another host, or removed)`);
        },
      );
    });
  });
}
