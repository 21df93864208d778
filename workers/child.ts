/**
 * A worker's child process: runs one job at a time, for many jobs in turn. Its stdout
 * and stderr are the job's output; everything else travels over the IPC channel.
 *
 * The end of a job is marked on both streams with a sentinel, because pipe data and IPC
 * messages travel separately: the parent finishes the job only once it has read every
 * byte the job printed. Both, always, even after a job that printed nothing through
 * `process.stdout`: output can reach the file descriptors without it (a logger writing
 * to fd 1, a subprocess inheriting them), and its end must not be cut off. (Skipping
 * them for quiet jobs was measured: 20 µs a noop job, not worth that risk.)
 */
import type { Db } from '../app/db.js';
import { loadConfig } from '../app/config.js';
import { openDb } from '../app/db.js';
import { coerceError } from '../app/errors.js';
import { createFileStore, type FileStore } from '../app/files/index.js';
import { getHandler, registerExtraHandlers } from './tasks/index.js';
import { resultOf } from './tasks/types.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { sentinel } from './protocol.js';
import { StepTracker } from './steps.js';

// Output goes to the worker as it is printed. A pipe's writes are asynchronous once it is
// full: a task that prints in a loop without yielding would pile its whole output up in
// this process's memory and hand it over only when it ends, so that the worker could
// store none of it meanwhile. Blocking writes keep the output flowing, and memory flat.
for (const stream of [process.stdout, process.stderr]) {
  (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => unknown } })._handle?.setBlocking?.(true);
}

/**
 * The resident memory reported after a job, for the worker's recycling limit. Reading it
 * costs a file open and read; after a job of a few milliseconds the value read shortly
 * before is still good, so it is read again only after a job that ran 20 ms or more, or
 * when the last reading is 250 ms old.
 */
let rssRead = { at: -Infinity, value: 0 };
function rss(jobMs: number): number {
  const now = performance.now();
  if (jobMs >= 20 || now - rssRead.at >= 250) rssRead = { at: now, value: process.memoryUsage.rss() };
  return rssRead.value;
}

let db: Db | null = null;
let files: FileStore | null = null;

function openDatabase(): Db {
  db ??= openDb(loadConfig().database, { pool: 2 });
  return db;
}

/** The file store, over this child's database connection. */
function fileStore(): FileStore {
  files ??= createFileStore(loadConfig(), openDatabase());
  return files;
}

/** A result has no limit of its own: it is the task's output, not someone's upload. */
const RESULT_MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** The running job. Its AbortController is made when the task first asks for its signal. */
interface Current {
  id: number;
  attempt: number;
  controller: AbortController | null;
  aborted: string | null;
}
let current: Current | null = null;

function signalOf(job: Current): AbortSignal {
  if (!job.controller) {
    job.controller = new AbortController();
    if (job.aborted !== null) job.controller.abort(job.aborted);
  }
  return job.controller.signal;
}

function abort(job: Current, reason: string): void {
  job.aborted ??= reason;
  job.controller?.abort(reason);
}

function send(msg: ChildMessage): void {
  if (process.send && process.connected) process.send(msg);
}

/** Resolves once everything written so far to the stream has been handed to the pipe. */
function drained(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

async function run(msg: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const job: Current = { id: msg.job.id, attempt: msg.job.attempt, controller: null, aborted: null };
  current = job;
  const began = performance.now();
  const def = getHandler(msg.job.task);
  let reply: ChildMessage;
  try {
    if (!def) throw new Error(`this worker has no handler for task "${msg.job.task}"`);
    let lastProgress = 0;
    const tracker = new StepTracker();
    let lastStep: string | null = null;
    const sendSteps = () => {
      const active = tracker.active();
      const text = active ? (active.extra ? `${active.label}: ${active.extra}` : active.label) : null;
      send({ type: 'progress', jobId: msg.job.id, current: active?.current ?? null, total: active?.total ?? null, text, steps: tracker.steps });
    };
    const result = await def.run({
      jobId: msg.job.id,
      attempt: msg.job.attempt,
      params: msg.job.params,
      resultsDir: msg.resultsDir,
      get signal() {
        return signalOf(job);
      },
      db: openDatabase,
      openFile: (id) => fileStore().get(id),
      putResult: (source, name, contentType) =>
        fileStore().put(source, { jobId: msg.job.id, kind: 'result', name, contentType, maxBytes: RESULT_MAX_BYTES }),
      progress(cur, total = null, text = null) {
        // Progress is a hint: at most ten messages a second reach the parent.
        const now = Date.now();
        const final = total !== null && cur !== null && cur >= total;
        if (!final && now - lastProgress < 100) return;
        lastProgress = now;
        send({ type: 'progress', jobId: msg.job.id, current: cur, total, text });
      },
      steps(labels) {
        tracker.declare(labels);
        sendSteps();
      },
      step(label, detail = {}) {
        const s = tracker.step(label, detail);
        // A new step always goes out; the detail of the same step at most ten times a second.
        const now = Date.now();
        if (s.label === lastStep && now - lastProgress < 100) return;
        lastStep = s.label;
        lastProgress = now;
        sendSteps();
      },
    });
    reply = { type: 'done', jobId: msg.job.id, result: result ?? {}, rss: 0 };
  } catch (thrown) {
    const err = coerceError(thrown);
    reply = {
      type: 'error',
      jobId: msg.job.id,
      message: err.message || err.name,
      unrecoverable: Boolean((err as { unrecoverable?: boolean }).unrecoverable),
      permanent: Boolean((err as { permanent?: boolean }).permanent),
      result: resultOf(err),
      stack: err.stack ?? null,
      rss: 0,
    };
  }
  reply.rss = rss(performance.now() - began);
  const mark = sentinel(msg.job.id, msg.job.attempt);
  await Promise.all([drained(process.stdout, mark), drained(process.stderr, mark)]);
  current = null;
  send(reply);
}

process.on('message', (raw: ParentMessage) => {
  if (raw.type === 'run') {
    void run(raw);
  } else if (raw.type === 'abort' && current && current.id === raw.jobId) {
    abort(current, raw.reason);
  }
});

// Cancellation: SIGTERM asks the task to stop (its signal aborts); the parent kills the
// process if it has not finished within the grace period.
process.on('SIGTERM', () => {
  if (current) abort(current, 'cancelled');
  else process.exit(0);
});

// The worker died (even by SIGKILL): a child must not outlive it and run on unseen.
process.on('disconnect', () => process.exit(1));

// The tests' and the fault suite's own tasks (DOCKET_EXTRA_TASKS) must have their
// handlers here too: this is a process of its own, and the worker's registry is not ours.
await registerExtraHandlers(loadConfig().extraTasks);
send({ type: 'ready', pid: process.pid });
