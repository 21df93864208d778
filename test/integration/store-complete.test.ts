import { expect } from 'chai';
import { openDb, migrate, type Db } from '../../app/db.js';
import { claimJobs, completeJobs, getJob, insertJob, listEvents } from '../../app/store/jobs.js';

describe('batched claims and completions (store)', () => {
  let db: Db;
  before(async () => {
    db = openDb({ client: 'sqlite', filename: ':memory:', url: 'sqlite::memory:' });
    await migrate(db);
  });
  after(async () => db.destroy());

  const add = () =>
    insertJob(db, { task: 'noop', params: {}, priority: 2, userId: null, username: null, origin: 'cli', uniqueKey: null, maxAttempts: 3, objectRef: null, now: 1 }, 'test');

  it('claims only what is still queued, and completes only current attempts', async () => {
    const ids = [await add(), await add(), await add()];
    // Another worker took the last one first.
    expect((await claimJobs(db, [ids[2]], 'other', 10, 1000)).map((j) => j.id)).to.deep.equal([ids[2]]);
    const mine = await claimJobs(db, [...ids, ids[0]], 'me', 20, 1000);
    expect(mine.map((j) => [j.id, j.attempt, j.workerId])).to.deep.equal([
      [ids[0], 1, 'me'],
      [ids[1], 1, 'me'],
    ]);
    // One completion in the batch is stale (an old attempt): the rest still complete.
    const done = await completeJobs(
      db,
      [
        { id: ids[0], attempt: 1, resultSummary: null, resultFile: null, resultName: null, objectRef: null },
        { id: ids[1], attempt: 0, resultSummary: null, resultFile: null, resultName: null, objectRef: null },
        { id: ids[2], attempt: 1, resultSummary: null, resultFile: null, resultName: null, objectRef: null },
      ],
      30,
      'me',
    );
    expect([...done].sort()).to.deep.equal([ids[0], ids[2]].sort());
    expect((await getJob(db, ids[1]))?.status).to.equal('running');
    expect((await listEvents(db, ids[1])).map((e) => e.type)).to.deep.equal(['queued', 'started']);
    expect((await listEvents(db, ids[0])).map((e) => e.type)).to.deep.equal(['queued', 'started', 'completed']);
    // All current: one statement for the batch.
    const again = await completeJobs(db, [{ id: ids[1], attempt: 1, resultSummary: null, resultFile: null, resultName: null, objectRef: null }], 40, 'me');
    expect([...again]).to.deep.equal([ids[1]]);
  });
});
