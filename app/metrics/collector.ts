/**
 * The figures of GET /metrics, as prom-client metrics in a registry of their own (one per
 * web app, so that two apps in one process never share counts).
 *
 * Every figure is read from the database when Prometheus scrapes, in the metric's own
 * `collect()`, never pushed by a worker: workers on every host write their jobs' rows and
 * events, so one web process sees them all without an endpoint on each worker (which
 * Prometheus would have to discover, and which a worker behind a NAT could not offer).
 * Two kinds, chosen for what stays cheap on a table of millions of jobs:
 * - Gauges read now: queued and running jobs per task, the age of the oldest queued job
 *   per task, workers by state and by ability, notifications by kind and state, whether
 *   processing is paused.
 * - Counters and histograms since this process started: the job events added since the
 *   last scrape are read (by primary key, at most EVENTS_PER_READ at a time) and counted
 *   (finished jobs, retries, jobs recovered from lost workers, output bytes) and observed
 *   (enqueue→start, run time). A restart resets them to zero, which Prometheus' rate()
 *   expects of a counter. Several web processes each count every event: scrape one, or
 *   aggregate with max() rather than sum().
 * The HTTP histogram is the one figure of this process alone: `httpRequestMetrics`
 * observes each request it answers.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobService } from '../job-service.js';
import { activeCounts, eventsSince, lastEventId, notificationCounts, oldestQueued, type MetricEvent } from '../store/metrics.js';
import { listWorkers } from '../store/workers.js';

const EVENTS_PER_READ = 20_000;
/** Five reads a scrape at most (100,000 events); a larger backlog is counted by the next ones. */
const READS_PER_SCRAPE = 5;
/** Seconds: from a noop's milliseconds to a finding aid's hour. */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600];
/** Seconds: a page answers in milliseconds, an upload or a long CSV download in seconds. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
}

/** The registry of one web app, its collectors reading `service`'s database. */
export function createMetrics(service: JobService): Metrics {
  const registry = new Registry();
  const events = new EventCounts(service);
  const workers = new Snapshot(() => listWorkers(service.db, service.now(), service.config.heartbeatMs));
  const active = new Snapshot(() => activeCounts(service.db));

  new Gauge({
    name: 'docket_jobs',
    help: 'Unfinished jobs by task and status (queued includes held chain steps and retries in backoff).',
    labelNames: ['task', 'status'],
    registers: [registry],
    async collect() {
      const rows = await active.read();
      this.reset();
      for (const r of rows) this.set({ task: r.task, status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'docket_queue_oldest_age_seconds',
    help: 'Age of the oldest queued job that may start now, by task.',
    labelNames: ['task'],
    registers: [registry],
    async collect() {
      const now = service.now();
      const tasks = (await active.read()).filter((r) => r.status === 'queued').map((r) => r.task);
      const rows = await oldestQueued(service.db, now, tasks);
      this.reset();
      for (const r of rows) this.set({ task: r.task }, Math.max(0, now - r.queuedAt) / 1000);
    },
  });
  new Gauge({
    name: 'docket_workers',
    help: 'Workers seen in the last day, by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const by = { active: 0, lost: 0, stopped: 0 };
      for (const w of await workers.read()) by[w.state]++;
      for (const [state, n] of Object.entries(by)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'docket_workers_active_by_ability',
    help: 'Active workers that take each task.',
    labelNames: ['ability'],
    registers: [registry],
    async collect() {
      const by = new Map<string, number>();
      for (const w of await workers.read()) {
        if (w.state === 'active') for (const a of w.abilities) by.set(a, (by.get(a) ?? 0) + 1);
      }
      this.reset();
      for (const [ability, n] of by) this.set({ ability }, n);
    },
  });
  new Gauge({
    name: 'docket_notifications',
    help: 'Webhook and mail notifications in the outbox, by kind and state (pending, sent, failed); they go with their job.',
    labelNames: ['kind', 'state'],
    registers: [registry],
    async collect() {
      const rows = await notificationCounts(service.db);
      this.reset();
      for (const r of rows) this.set({ kind: r.kind, state: r.state }, r.n);
    },
  });
  new Gauge({
    name: 'docket_queue_paused',
    help: '1 while processing is paused.',
    registers: [registry],
    async collect() {
      this.set((await service.isPaused()) ? 1 : 0);
    },
  });
  new Counter({
    name: 'docket_dispatch_republished_total',
    help: "Queued jobs this process's dispatcher published again (the broker had not confirmed them).",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(service.dispatcher.republished);
    },
  });

  // Counted from job events: each collect() waits for the one read of this scrape.
  const catchUp = async function (this: unknown): Promise<void> {
    await events.catchUp();
  };
  events.finished = new Counter({
    name: 'docket_jobs_finished_total',
    help: 'Jobs that ended (completed, failed, cancelled) since this process started, by task.',
    labelNames: ['task', 'status'],
    registers: [registry],
    collect: catchUp,
  });
  events.retries = new Counter({
    name: 'docket_job_retries_total',
    help: 'Attempts retried (after a failure or a lost worker, or by hand) since this process started.',
    labelNames: ['task'],
    registers: [registry],
    collect: catchUp,
  });
  events.recovered = new Counter({
    name: 'docket_jobs_recovered_total',
    help: 'Jobs taken back from lost workers since this process started, by outcome (retried or failed).',
    labelNames: ['task', 'outcome'],
    registers: [registry],
    collect: catchUp,
  });
  events.outputBytes = new Counter({
    name: 'docket_job_output_bytes_total',
    help: 'Output bytes stored by jobs that ended since this process started.',
    labelNames: ['task'],
    registers: [registry],
    collect: catchUp,
  });
  events.wait = new Histogram({
    name: 'docket_job_wait_seconds',
    help: 'Time from enqueue to the first start, by task (jobs started since this process started).',
    labelNames: ['task'],
    buckets: WAIT_BUCKETS,
    registers: [registry],
    collect: catchUp,
  });
  events.run = new Histogram({
    name: 'docket_job_run_seconds',
    help: 'Run time of the last attempt of completed and failed jobs, by task.',
    labelNames: ['task'],
    buckets: RUN_BUCKETS,
    registers: [registry],
    collect: catchUp,
  });

  const httpDuration = new Histogram({
    name: 'docket_http_request_duration_seconds',
    help: "Time to answer an HTTP request of this web process, by method, route pattern and status class (2xx, 4xx, ...); 'unmatched' is a request no route took (a 404, a static file).",
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  return { registry, httpDuration };
}

/** One read shared by the collectors of one scrape (they run side by side). */
class Snapshot<T> {
  private pending: Promise<T> | null = null;
  constructor(private readonly load: () => Promise<T>) {}
  read(): Promise<T> {
    this.pending ??= this.load().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }
}

/** The counters and histograms fed from job events, read since this process started. */
class EventCounts {
  finished!: Counter<'task' | 'status'>;
  retries!: Counter<'task'>;
  recovered!: Counter<'task' | 'outcome'>;
  outputBytes!: Counter<'task'>;
  wait!: Histogram<'task'>;
  run!: Histogram<'task'>;
  /** The last event counted; events before this process started are history. */
  private lastId: Promise<number>;
  private readonly reading: Snapshot<void>;

  constructor(private readonly service: JobService) {
    this.lastId = lastEventId(service.db).catch(() => 0);
    this.reading = new Snapshot(() => this.read());
  }

  catchUp(): Promise<void> {
    return this.reading.read();
  }

  private async read(): Promise<void> {
    let after = await this.lastId;
    for (let round = 0; round < READS_PER_SCRAPE; round++) {
      const batch = await eventsSince(this.service.db, after, EVENTS_PER_READ);
      for (const e of batch) this.count(e);
      if (batch.length) after = batch[batch.length - 1].id;
      this.lastId = Promise.resolve(after);
      if (batch.length < EVENTS_PER_READ) break;
    }
  }

  private count(e: MetricEvent): void {
    const task = e.task ?? 'unknown';
    if (e.type === 'started') {
      // The first start only: a retry's wait is its backoff, not the queue's.
      if (e.attempt === 1 && e.queuedAt !== null) this.wait.observe({ task }, Math.max(0, e.at - e.queuedAt) / 1000);
      return;
    }
    if (e.type === 'retried') {
      this.retries.inc({ task });
      if (e.message?.startsWith('worker lost')) this.recovered.inc({ task, outcome: 'retried' });
      return;
    }
    this.finished.inc({ task, status: e.type });
    if (e.type === 'failed' && e.message?.startsWith('worker lost')) this.recovered.inc({ task, outcome: 'failed' });
    if (e.type !== 'cancelled' && e.startedAt !== null) this.run.observe({ task }, Math.max(0, e.at - e.startedAt) / 1000);
    if (e.task !== null) this.outputBytes.inc({ task }, e.outputBytes);
  }
}
