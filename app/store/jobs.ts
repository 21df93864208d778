/**
 * Every SQL statement about jobs, their events and their output, one file per action.
 * Routes, workers and the CLI call these named functions and never build SQL of their
 * own. Each state change is a conditional UPDATE, so two processes racing for one job
 * cannot both win. This module only gathers them under one name, the one callers import.
 */
export { rowToJob, rowToSummary, SUMMARY_COLUMNS } from './job-rows.js';
export { insertJob, insertJobs, type InsertJob } from './job-insert.js';
export { getJob } from './job-read.js';
export { addEvent, listEvents } from './job-events.js';
export { markDispatched, undispatched, type DispatchMark } from './job-dispatch.js';
export { markRedispatched, tasksWaiting, waitingDispatched, waitingDispatchedByTask } from './job-lost.js';
export { queuedByTask, type TaskQueued } from './job-counts.js';
export { claimableIds, claimBatch, claimJob, claimJobs, type ClaimResult } from './job-claim.js';
export { completeJobs, finishJob, type Completion, type Finish } from './job-finish.js';
export { requeueFinal, requeueRunning } from './job-retry.js';
export { expiredLeases, renewLeases, runningOfWorker, runningOfWorkers } from './job-leases.js';
export { setProgress } from './job-progress.js';
export { cancelQueued, cancelQueuedMany, queuedIds, requestCancel } from './job-cancel.js';
export { appendOutput, appendOutputParts, readOutput, type OutputPart } from './job-output.js';
