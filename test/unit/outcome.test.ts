import { expect } from 'chai';
import { decideOutcome, endedCleanly, slotFate, type AttemptReport, type Reply } from '../../workers/outcome.js';

/** An attempt's end, decided from what the worker saw, without processes or a database. */
describe('attempt outcome', () => {
  const MB = 1024 * 1024;
  const done = (rss = 10 * MB): Reply => ({ type: 'done', jobId: 7, result: { summary: 'ok' }, rss });
  const error = (unrecoverable = false): Reply => ({ type: 'error', jobId: 7, message: 'boom', unrecoverable, stack: null, rss: MB });
  const report = (r: Partial<AttemptReport>): AttemptReport => ({
    taken: false,
    outputError: null,
    cancelBy: null,
    timeLimit: null,
    reply: null,
    exit: null,
    retryBackoffMs: null,
    ...r,
  });

  describe('decideOutcome', () => {
    it('completes a job whose child replied done, with its result', () => {
      expect(decideOutcome(report({ reply: done() }))).to.deep.equal({ kind: 'completed', result: { summary: 'ok' } });
    });

    it("fails with the task's error, its unrecoverable flag and the task's retry backoff", () => {
      expect(decideOutcome(report({ reply: error(), retryBackoffMs: 250 }))).to.deep.equal({
        kind: 'failed',
        cause: 'task',
        message: 'boom',
        unrecoverable: false,
        permanent: false,
        retryBackoffMs: 250,
      });
      const v = decideOutcome(report({ reply: error(true) }));
      expect(v).to.include({ kind: 'failed', unrecoverable: true, permanent: false, retryBackoffMs: null });
    });

    it('passes on an input error (InputError) as permanent: the job is not to be retried', () => {
      const reply: Reply = { type: 'error', jobId: 7, message: 'bad header', unrecoverable: true, permanent: true, stack: null, rss: MB };
      expect(decideOutcome(report({ reply, retryBackoffMs: 250 }))).to.include({ kind: 'failed', unrecoverable: true, permanent: true });
      // A time limit is not the input's fault: retried by hand, it may pass.
      const late = decideOutcome(report({ reply, timeLimit: 'hard time limit reached' }));
      expect(late).to.include({ cause: 'time-limit' });
      expect(late).to.not.have.property('permanent');
    });

    it('passes on what a failed task left (its error\'s result), and only for the task\'s own failure', () => {
      const result = { summary: '3 rows not imported (3 from row 1 on)', file: { stored: 'f-1', downloadName: 'a-not-imported.csv' } };
      const reply: Reply = { type: 'error', jobId: 7, message: 'refused', unrecoverable: true, permanent: true, result, stack: null, rss: MB };
      expect(decideOutcome(report({ reply }))).to.deep.include({ kind: 'failed', cause: 'task', result });
      expect(decideOutcome(report({ reply: error() }))).to.not.have.property('result');
      expect(decideOutcome(report({ reply, timeLimit: 'hard time limit reached' }))).to.not.have.property('result');
    });

    it('says how a child that died without a reply ended, and leaves it retryable', () => {
      expect(decideOutcome(report({ exit: { code: null, signal: 'SIGKILL' }, retryBackoffMs: 100 }))).to.deep.equal({
        kind: 'failed',
        cause: 'signal',
        message: "the job's process was killed by SIGKILL",
        unrecoverable: false,
        retryBackoffMs: 100,
      });
      expect(decideOutcome(report({ exit: { code: 3, signal: null } }))).to.include({
        cause: 'exit',
        message: "the job's process exited with code 3 before finishing",
        unrecoverable: false,
      });
      expect(decideOutcome(report({}))).to.include({ message: "the job's process exited with code unknown before finishing" });
    });

    it('cancels a job asked to cancel, even when its child then finished or was killed', () => {
      for (const end of [{ reply: done() }, { reply: error() }, { exit: { code: null, signal: 'SIGTERM' } }]) {
        expect(decideOutcome(report({ cancelBy: 'alice', ...end }))).to.deep.equal({ kind: 'cancelled', by: 'alice' });
      }
    });

    it('fails a job past its time limit for good, unless it finished just in time', () => {
      const limit = 'hard time limit of 2 s reached; the job was killed';
      for (const end of [{ exit: { code: null, signal: 'SIGKILL' } }, { reply: error() }]) {
        expect(decideOutcome(report({ timeLimit: limit, retryBackoffMs: 100, ...end }))).to.deep.equal({
          kind: 'failed',
          cause: 'time-limit',
          message: limit,
          unrecoverable: true,
          retryBackoffMs: null,
        });
      }
      expect(decideOutcome(report({ timeLimit: limit, reply: done() })).kind).to.equal('completed');
    });

    it('fails a job whose output could not be stored, before anything but a take-over', () => {
      const v = decideOutcome(report({ outputError: 'ENOSPC: no space left', cancelBy: 'bob', reply: done() }));
      expect(v).to.deep.equal({ kind: 'failed', cause: 'output', message: 'ENOSPC: no space left', unrecoverable: true, retryBackoffMs: null });
    });

    it('retries a job whose output the database could not take (a passing outage), unlike a full disk', () => {
      const v = decideOutcome(report({ outputError: 'database is locked', outputTransient: true, reply: done() }));
      expect(v).to.deep.equal({ kind: 'failed', cause: 'output', message: 'database is locked', unrecoverable: false, transient: true, retryBackoffMs: null });
    });

    it('writes nothing for a job taken from this worker, whatever else happened', () => {
      const v = decideOutcome(report({ taken: true, outputError: 'x', cancelBy: 'bob', timeLimit: 't', reply: done() }));
      expect(v).to.deep.equal({ kind: 'taken' });
    });
  });

  describe('endedCleanly', () => {
    it('only for a done reply with no cancel, time limit or take-over', () => {
      expect(endedCleanly(report({ reply: done() }))).to.equal(true);
      expect(endedCleanly(report({ reply: error() }))).to.equal(false);
      expect(endedCleanly(report({}))).to.equal(false);
      expect(endedCleanly(report({ reply: done(), cancelBy: 'a' }))).to.equal(false);
      expect(endedCleanly(report({ reply: done(), timeLimit: 'soft' }))).to.equal(false);
      expect(endedCleanly(report({ reply: done(), taken: true }))).to.equal(false);
    });
  });

  describe('slotFate', () => {
    const limits = { maxJobs: 3, maxMemoryMb: 100 };

    it('keeps a child under both limits, recycles it at the job count or past the memory', () => {
      expect(slotFate(report({ reply: done(99 * MB) }), 2, limits)).to.equal('keep');
      expect(slotFate(report({ reply: done(100 * MB) }), 2, limits)).to.equal('keep');
      expect(slotFate(report({ reply: done(100 * MB + 1) }), 2, limits)).to.equal('recycle');
      expect(slotFate(report({ reply: done() }), 3, limits)).to.equal('recycle');
      expect(slotFate(report({ reply: error() }), 1, limits)).to.equal('keep');
    });

    it('kills a child whose job was cancelled, timed out or taken: it may still be running it', () => {
      expect(slotFate(report({ cancelBy: 'a' }), 1, limits)).to.equal('kill');
      expect(slotFate(report({ timeLimit: 'soft', reply: done() }), 1, limits)).to.equal('kill');
      expect(slotFate(report({ taken: true }), 1, limits)).to.equal('kill');
    });
  });
});
