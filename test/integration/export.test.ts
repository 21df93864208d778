import { expect } from 'chai';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, writeJobsCsv } from '../../app/export.js';
import { openDb, migrate, type Db } from '../../app/db.js';
import { insertJob } from '../../app/store/jobs.js';

async function addJob(db: Db, patch: Record<string, unknown>): Promise<number> {
  const id = await insertJob(
    db,
    { task: 'print', params: {}, priority: 2, userId: null, username: null, origin: 'cli', uniqueKey: null, maxAttempts: 3, objectRef: null, now: Date.UTC(2026, 10, 22, 10, 0, 0) },
    'test',
  );
  await db('jobs').where({ id }).update({ started_at: Date.UTC(2026, 10, 22, 10, 0, 1), ...patch });
  return id;
}

describe('CSV history export from the database', () => {
  let db: Db;
  before(async () => {
    db = openDb({ client: 'sqlite', filename: ':memory:', url: 'sqlite::memory:' });
    await migrate(db);
  });
  after(async () => db.destroy());

  it("writes AtoM's columns first, quotes what needs it, defuses formulas, across pages", async () => {
    await addJob(db, { status: 'running' });
    await addJob(db, { status: 'failed', error: 'a, "b"\nc', username: 'ann', user_id: 7 });
    await addJob(db, { status: 'failed', error: '=HYPERLINK("http://x")' });
    // A line longer than the 256 KB an export page is encoded into at a time.
    const long = `${'é€😀, "'.repeat(20_000)}end`;
    const longId = await addJob(db, { status: 'failed', error: long });
    // More than one page of 2,000, so the export reads ahead page by page.
    for (let i = 0; i < 2100; i += 500) {
      await db('jobs').insert(
        Array.from({ length: 500 }, () => ({ task: 'noop', params: '{}', status: 'completed', priority: 2, origin: 'cli', queued_at: 1, attempt: 1, max_attempts: 3 })),
      );
    }
    let text = '';
    const out = new Writable({
      write(chunk, _e, cb) {
        text += String(chunk);
        cb();
      },
    });
    const n = await writeJobsCsv(db, { tab: 'all', userId: null }, out);
    expect(n).to.equal(2504);
    expect(text.split('\n')[0]).to.equal(CSV_COLUMNS.join(','));
    expect(text.startsWith('startDate,endDate,jobName,jobStatus,jobInfo,jobUser')).to.equal(true);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows).to.have.length(2504);
    expect(rows.find((r) => Number(r.jobId) === longId)?.jobInfo).to.equal(long);
    const ids = rows.map((r) => Number(r.jobId));
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    const [r1, r2, r3] = rows.slice(-3).reverse();
    expect(Buffer.byteLength(text)).to.be.greaterThan(2504 * 60 + 20_000 * 12);
    expect(r1).to.include({ startDate: '2026-11-22 10:00:01', endDate: 'N/A', jobStatus: 'Running', jobUser: 'Command line' });
    expect(r2).to.include({ jobInfo: 'a, "b"\nc', jobUser: 'ann', jobStatus: 'Error' });
    expect(r3.jobInfo).to.equal(`'=HYPERLINK("http://x")`);
    expect(r1).to.include({ group: '', groupName: '' });
  });

  it("ends each line with the job's group, AtoM's six columns still first", async () => {
    const [gid] = (await db('job_groups').insert({ name: '=Fonds, "A"', chain: true, origin: 'web', job_count: 2, created_at: 1 })) as number[];
    const a = await addJob(db, { status: 'completed', group_id: gid, group_seq: 0 });
    const b = await addJob(db, { status: 'queued', group_id: gid, group_seq: 1 });
    const c = await addJob(db, { status: 'completed' });
    let text = '';
    const out = new Writable({
      write(chunk, _e, cb) {
        text += String(chunk);
        cb();
      },
    });
    await writeJobsCsv(db, { tab: 'all', userId: null }, out);
    const header = text.split('\n')[0].split(',');
    expect(header.slice(0, 6)).to.deep.equal(['startDate', 'endDate', 'jobName', 'jobStatus', 'jobInfo', 'jobUser']);
    expect(header.slice(-2)).to.deep.equal(['group', 'groupName']);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    const by = (id: number) => rows.find((r) => Number(r.jobId) === id);
    expect(by(a)).to.include({ group: String(gid), groupName: `'=Fonds, "A"` });
    expect(by(b)).to.include({ group: String(gid), jobStatus: 'Queued' });
    expect(by(c)).to.include({ group: '', groupName: '' });
  });
});
