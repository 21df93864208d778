import { expect } from 'chai';
import * as jobs from '../../app/store/jobs.js';

describe('the job store module', () => {
  it('keeps every name callers import from app/store/jobs.ts, and no internal helper', () => {
    expect(Object.keys(jobs).sort()).to.deep.equal(
      [
        'SUMMARY_COLUMNS',
        'addEvent',
        'appendOutput',
        'appendOutputParts',
        'cancelQueued',
        'cancelQueuedMany',
        'claimBatch',
        'claimJob',
        'claimJobs',
        'claimableIds',
        'completeJobs',
        'expiredLeases',
        'finishJob',
        'getJob',
        'insertJob',
        'insertJobs',
        'listEvents',
        'markDispatched',
        'markRedispatched',
        'queuedByTask',
        'queuedIds',
        'readOutput',
        'renewLeases',
        'requestCancel',
        'requeueFinal',
        'requeueRunning',
        'rowToJob',
        'rowToSummary',
        'runningOfWorker',
        'runningOfWorkers',
        'setProgress',
        'undispatched',
        'waitingDispatched',
        'tasksWaiting',
        'waitingDispatchedByTask',
      ].sort(),
    );
  });
});
