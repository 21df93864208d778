/**
 * A job's output for the details page and the API:
 * - `text/event-stream` (the page's EventSource): output chunks as they are written,
 *   `job` events when the status or progress changes, and `end` once the job is over
 *   and its last output was sent. `Last-Event-ID` resumes after a reconnect.
 * - JSON (the polling fallback and the API): the chunks after `?after=`, the cursor for
 *   the next call, and whether the job is over.
 * - `?format=text`: the whole output as plain text.
 *
 * Output lives in the database (written in batches by workers on any host), so the
 * stream polls it; one poll per open stream every half second.
 */
import type { Request, Response } from 'express';
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';
import type { Actor } from '../policy.js';
import { getJob, readOutput } from '../store/jobs.js';
import { FINAL_STATUSES, STATUS_LABELS, type Job } from '../types.js';
import { chunkCursorParam, jobIdParam, queryValue, sendJsonWithEtag } from './http.js';
import { visibleJob } from './jobs-query.js';
import { chunkJson, isoDate, progressOf } from './present.js';

const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;
const BATCH = 500;
/**
 * Live streams: at most `total` open per process and `perUser` per user (more get a 503
 * and the page polls instead: one user's tabs cannot take every stream); each stream
 * checks every `sessionCheckMs` that its session still signs its user in, and ends once
 * the user has logged out (or the session is gone). Tests shorten the check.
 */
export const STREAM_LIMITS = { total: 500, perUser: 10, sessionCheckMs: 15_000 };
/** After the job is over, output may still land (the worker's last flush): wait this long for it. */
const SETTLE_MS = 1000;

let openStreams = 0;
const streamsOf = new Map<number, number>();

/** Waits for the socket to take more, or to close (a gone client never drains). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** How long a poller should wait before asking again about this job. */
export function retryAfterSeconds(job: Pick<Job, 'status'>): number | null {
  if (FINAL_STATUSES.includes(job.status)) return null;
  return job.status === 'running' ? 2 : 5;
}

function jobState(job: Job) {
  return {
    id: job.id,
    status: job.status,
    statusLabel: STATUS_LABELS[job.status],
    attempt: job.attempt,
    progress: progressOf(job),
    startedAt: isoDate(job.startedAt),
    finishedAt: isoDate(job.finishedAt),
    error: job.error,
    cancelRequested: job.cancelRequestedBy !== null,
    outputBytes: job.outputBytes,
    outputTruncated: job.outputTruncated,
    done: FINAL_STATUSES.includes(job.status),
  };
}

export function outputHandler(ctx: Context, kind: 'page' | 'api') {
  return async (req: Request, res: Response): Promise<void> => {
    const actor = req.user as Actor;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    if (queryValue(req, 'format') === 'text') return sendText(ctx, job, res);
    if (kind === 'page' && req.accepts(['json', 'text/event-stream']) === 'text/event-stream') {
      return stream(ctx, req, res, job);
    }
    const after = chunkCursorParam(queryValue(req, 'after'));
    const chunks = await readOutput(ctx.db, job.id, after, BATCH);
    const next = chunks.length ? chunks[chunks.length - 1].id : after;
    const state = jobState(job);
    // More may come while the job runs, or while this page of output was full.
    const more = chunks.length === BATCH;
    const wait = more ? null : retryAfterSeconds(job);
    if (wait !== null) res.set('Retry-After', String(wait));
    res.set('Cache-Control', 'private, no-cache');
    sendJsonWithEtag(req, res, { job: state, chunks: chunks.map(chunkJson), next, more, done: state.done && !more });
  };
}

async function sendText(ctx: Context, job: Job, res: Response): Promise<void> {
  res.set('Content-Type', 'text/plain; charset=utf-8');
  res.set('Cache-Control', 'private, no-cache');
  res.set('Content-Disposition', `inline; filename="job-${job.id}-output.txt"`);
  let after = 0;
  for (;;) {
    const chunks = await readOutput(ctx.db, job.id, after, BATCH);
    for (const c of chunks) {
      if (!res.write(c.text)) await drained(res);
    }
    if (chunks.length < BATCH) break;
    after = chunks[chunks.length - 1].id;
  }
  res.end();
}

async function stream(ctx: Context, req: Request, res: Response, first: Job): Promise<void> {
  const userId = req.user?.id ?? 0;
  if (openStreams >= STREAM_LIMITS.total || (streamsOf.get(userId) ?? 0) >= STREAM_LIMITS.perUser) {
    res.set('Retry-After', '5');
    throw new HttpError(503, 'Too many live streams; the page polls instead.');
  }
  openStreams++;
  streamsOf.set(userId, (streamsOf.get(userId) ?? 0) + 1);
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    // Proxies such as nginx would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();

  const lastId = Number(req.get('last-event-id') ?? queryValue(req, 'after') ?? 0);
  let after = Number.isSafeInteger(lastId) && lastId > 0 ? lastId : 0;
  let closed = false;
  let lastState = '';
  let finalSince: number | null = null;
  let lastWrite = Date.now();
  let timer: NodeJS.Timeout | null = null;
  let sessionCheckedAt = Date.now();

  const write = async (text: string): Promise<void> => {
    lastWrite = Date.now();
    if (!res.write(text)) await drained(res);
  };
  const stop = (): void => {
    if (closed) return;
    closed = true;
    openStreams--;
    const mine = (streamsOf.get(userId) ?? 1) - 1;
    if (mine > 0) streamsOf.set(userId, mine);
    else streamsOf.delete(userId);
    if (timer) clearTimeout(timer);
  };
  req.on('close', stop);

  await write(`retry: 2000\n\n`);

  // A web process shutting down (server.close()) stops listening at once but waits for
  // open connections; a stream would hold it up for as long as the job runs. So the
  // stream ends then, and the browser reconnects to a live process, resuming after the
  // last chunk it saw.
  const server = (req.socket as { server?: { listening?: boolean } }).server;

  const poll = async (): Promise<void> => {
    timer = null;
    if (closed) return;
    if (server && server.listening === false) {
      stop();
      // And the connection too: kept alive, it would hold the closing server for its idle timeout.
      // (No callback to end(): express-session's wrapper may write it as data.)
      res.once('finish', () => req.socket.end());
      res.end();
      return;
    }
    try {
      if (Date.now() - sessionCheckedAt >= STREAM_LIMITS.sessionCheckMs) {
        sessionCheckedAt = Date.now();
        if (!(await stillSignedIn(req))) {
          await write(`event: end\ndata: ${JSON.stringify({ loggedOut: true })}\n\n`);
          stop();
          res.end();
          return;
        }
      }
      // Status first, then output: output read after a final status is complete
      // except for a last flush, which the settle time covers.
      const job = (await getJob(ctx.db, first.id)) ?? first;
      let full = false;
      const chunks = await readOutput(ctx.db, job.id, after, BATCH);
      for (const c of chunks) {
        if (closed) return;
        await write(`id: ${c.id}\nevent: output\ndata: ${JSON.stringify(chunkJson(c))}\n\n`);
        after = c.id;
      }
      full = chunks.length === BATCH;
      const state = JSON.stringify(jobState(job));
      if (state !== lastState) {
        lastState = state;
        await write(`event: job\ndata: ${state}\n\n`);
      }
      if (FINAL_STATUSES.includes(job.status) && !full) {
        finalSince ??= Date.now();
        if (chunks.length === 0 && Date.now() - finalSince >= SETTLE_MS) {
          await write(`event: end\ndata: ${JSON.stringify({ status: job.status })}\n\n`);
          stop();
          res.end();
          return;
        }
      }
      if (Date.now() - lastWrite > HEARTBEAT_MS) await write(`: keep-alive\n\n`);
      if (!closed) timer = setTimeout(() => void poll(), full ? 0 : POLL_MS);
    } catch (err) {
      ctx.log.warn(`output stream of job ${first.id} failed: ${String(err)}`);
      // The browser reconnects after `retry` and resumes from the last id it saw.
      stop();
      res.end();
    }
  };
  await poll();
}

/** Whether the stream's session still exists and still signs in the user it began with. */
function stillSignedIn(req: Request): Promise<boolean> {
  const store = req.sessionStore;
  if (!store || !req.sessionID || !req.user) return Promise.resolve(false);
  return new Promise((resolve) => {
    store.get(req.sessionID, (err, s) => resolve(!err && !!s && s.userId === req.user?.id));
  });
}
