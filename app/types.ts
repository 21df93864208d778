/**
 * The words of Docket, in one place. Every other module uses exactly these.
 *
 * - task: a kind of work with a name and a handler (`finding-aid`, `csv-import`, ...).
 * - job: one request to run a task with parameters, owned by a user or by the command
 *   line. A row in `jobs`, the single source of truth.
 * - attempt: one execution of a job. A retried or recovered job gets attempt 2, 3, ...
 *   The attempt number fences a zombie: a write carrying an old attempt is refused.
 * - worker: a process that runs jobs. It declares the tasks it can do (its abilities)
 *   and runs up to `concurrency` jobs at once, each in a child process.
 * - transport: how a queued job reaches a worker: `amqp` (RabbitMQ) or `db` (workers
 *   claim straight from the `jobs` table).
 * - lease: a running job's promise from its worker, renewed by heartbeats. An expired
 *   lease means the worker is gone.
 * - output: everything the job printed, kept per job in chunks.
 * - event: one entry of a job's history, with time, actor and message.
 * - dispatch: publishing a queued job's id to the transport. A job the broker did not
 *   confirm stays undispatched, and the sweep dispatches it again.
 * - delivery: one job id handed to a worker by the transport; acked after the claim, or
 *   released (given back) when the worker cannot take it.
 * - claim: the conditional update that makes a queued job a running attempt of one
 *   worker (queued → running, attempt + 1, lease). A stale or duplicate delivery finds
 *   nothing to claim. A worker may claim a job ahead of a free slot (claim-ahead).
 * - hand-back: a claimed or running job given back to the queue by its worker (stopping
 *   or paused); it does not use up an attempt.
 * - slot: one child process of a worker's pool, running at most one attempt at a time,
 *   reused from job to job and recycled after N jobs or M MB.
 * - presence: how a worker shows it is alive: its row in `workers`, renewed by its
 *   heartbeat, and with `amqp` an exclusive queue that vanishes with its connection.
 * - sweep: the recovery round every process runs (`Maintenance`): reap expired leases,
 *   dispatch what the broker never confirmed, recover jobs of workers whose presence went.
 */

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves on its own. */
export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** What the jobs page calls each status (AtoM says "Error" for failed). */
export const STATUS_LABELS: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Error',
  cancelled: 'Cancelled',
};

/**
 * A job's result file is offered for download once the job has ended with one: a
 * completed job's result, or what a failed one still left (a failed import's rows not
 * imported). A queued or running job's is not: a retry clears it.
 */
export function offersDownload(j: Pick<Job, 'status' | 'resultFile'>): boolean {
  return (j.status === 'completed' || j.status === 'failed') && j.resultFile !== null;
}

/** Failures a retry cannot get past (see Job.failureKind). */
export type FailureKind = 'input';

/** Said where Retry would be: why a job failed on its input is not retried. */
export const NO_RETRY_TEXT = 'its input was refused: the same input would fail again';

export const TABS = ['all', 'active', 'failed'] as const;
export type Tab = (typeof TABS)[number];

/** The statuses each tab of the jobs page shows. */
export const TAB_STATUSES: Record<Tab, readonly JobStatus[] | null> = {
  all: null,
  active: ['queued', 'running'],
  failed: ['failed'],
};

/** Gearman's three priorities, stored as numbers so that higher sorts first. */
export const PRIORITIES = { high: 3, normal: 2, low: 1 } as const;
export type PriorityName = keyof typeof PRIORITIES;
export function priorityName(n: number): PriorityName {
  return n >= 3 ? 'high' : n <= 1 ? 'low' : 'normal';
}

/** Where a job came from. A `cli` job without a user shows as "Command line". */
export type JobOrigin = 'web' | 'api' | 'cli';

export type Role = 'admin' | 'archivist';

export interface User {
  id: number;
  username: string;
  role: Role;
}

/** A job row as the engine sees it (times are milliseconds since the epoch). */
export interface Job {
  id: number;
  task: string;
  params: Record<string, unknown>;
  status: JobStatus;
  priority: number;
  userId: number | null;
  /** Username of the owner, or null for a command-line job without a user. */
  username: string | null;
  origin: JobOrigin;
  uniqueKey: string | null;
  attempt: number;
  maxAttempts: number;
  workerId: string | null;
  leaseExpiresAt: number | null;
  queuedAt: number;
  dispatchedAt: number | null;
  runAfter: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  progressCurrent: number | null;
  progressTotal: number | null;
  progressText: string | null;
  /** One line the task returned (e.g. "34 rows imported"). */
  resultSummary: string | null;
  /** Name of the result file under the results folder, when the task made one. */
  resultFile: string | null;
  /** File name offered to the browser for the result. */
  resultName: string | null;
  /** The related record, e.g. `description:12`. */
  objectRef: string | null;
  error: string | null;
  /**
   * `input` when the job failed on its own input (the file's content, parameters that
   * cannot work, a record that does not exist): the same input can only fail again, so it
   * is never retried. Null for any other end, a failure a retry may get past included.
   */
  failureKind: FailureKind | null;
  cancelRequestedBy: string | null;
  outputBytes: number;
  outputTruncated: boolean;
  /** The group (envelope) the job belongs to, and its place in it (0, 1, ...). */
  groupId: number | null;
  groupSeq: number | null;
  /** The steps its task reported (see app/steps.ts), or null for a task without steps. */
  progressSteps: ProgressStep[] | null;
}

/**
 * One step of a job's progress, as Swift's `ProgressSteps` has them: a label, a status
 * (0 waiting, 1 active, 2 done: Swift's `StepStatus`), an extra line ("Working on row
 * 3,000 / 12,000") and when it started and ended (ms).
 */
export interface ProgressStep {
  label: string;
  status: 0 | 1 | 2;
  extra: string | null;
  current: number | null;
  total: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** The light columns the jobs page and lists need (no params, no output). */
export type JobSummary = Pick<
  Job,
  | 'id'
  | 'task'
  | 'status'
  | 'priority'
  | 'userId'
  | 'username'
  | 'origin'
  | 'attempt'
  | 'queuedAt'
  | 'startedAt'
  | 'finishedAt'
  | 'progressCurrent'
  | 'progressTotal'
  | 'progressText'
  | 'resultSummary'
  | 'resultFile'
  | 'objectRef'
  | 'error'
  | 'failureKind'
>;

export type JobEventType =
  | 'queued'
  | 'dispatched'
  | 'started'
  | 'progress'
  | 'retried'
  | 'requeued'
  | 'cancel-requested'
  | 'cancelled'
  | 'failed'
  | 'completed'
  | 'joined'
  | 'notified';

export interface JobEvent {
  id: number;
  jobId: number;
  at: number;
  type: JobEventType;
  attempt: number;
  actor: string;
  message: string | null;
}

export type OutputStream = 'stdout' | 'stderr' | 'system';

export interface OutputChunk {
  id: number;
  jobId: number;
  attempt: number;
  stream: OutputStream;
  text: string;
  at: number;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  abilities: string[];
  concurrency: number;
  startedAt: number;
  lastHeartbeatAt: number;
  stoppedAt: number | null;
  running: number;
  /** Derived: a worker that stopped heartbeating without saying goodbye is lost. */
  state: 'active' | 'lost' | 'stopped';
}

/** What a new job needs. */
export interface NewJob {
  task: string;
  params?: Record<string, unknown>;
  priority?: PriorityName;
  user?: User | null;
  origin: JobOrigin;
  /** Mail the owner when the job ends; unset: the owner's default (off unless turned on). */
  notify?: boolean;
  /** `[{"url", "events"}]`, checked at enqueue (app/notify/subscribe.ts). */
  webhooks?: unknown;
}
