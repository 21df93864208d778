/**
 * The figures of GET /metrics.
 *
 * Two kinds, chosen for what stays cheap on a table of millions of jobs:
 * - Gauges read now: queued and running jobs per task, the age of the oldest queued job
 *   per task, workers by state and by ability, whether processing is paused.
 * - Counters and histograms since this process started: it reads the job events added
 *   since its last scrape (by primary key, at most EVENTS_PER_SCRAPE at a time) and counts
 *   finished jobs, retries, jobs recovered from lost workers and output bytes, and observes
 *   enqueue→start and run times. Workers write those events, so the figures cover every
 *   worker on every host without a worker endpoint; and a restart resets them to zero,
 *   which Prometheus' rate() expects of a counter. Several web processes each count every
 *   event: scrape one, or aggregate with max() rather than sum().
 */
import type { JobService } from '../job-service.js';
import { activeCounts, eventsSince, lastEventId, oldestQueued } from '../store/metrics.js';
import { listWorkers } from '../store/workers.js';
import { Exposition, Histogram, type Labels } from './exposition.js';

const EVENTS_PER_SCRAPE = 20_000;
// Five reads a scrape at most (100,000 events); a larger backlog is counted by the next ones.
/** Seconds: from a noop's milliseconds to a finding aid's hour. */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600];

class Counter {
  private values = new Map<string, { labels: Labels; value: number }>();
  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const v = this.values.get(key) ?? { labels, value: 0 };
    v.value += by;
    this.values.set(key, v);
  }
  samples() {
    return [...this.values.values()];
  }
}

export class MetricsCollector {
  private lastId: Promise<number>;
  private readonly finished = new Counter();
  private readonly retries = new Counter();
  private readonly recovered = new Counter();
  private readonly outputBytes = new Counter();
  private readonly run = new Map<string, Histogram>();
  private readonly wait = new Map<string, Histogram>();
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly service: JobService) {
    // The counters start at this process's start: events before it are history.
    this.lastId = lastEventId(service.db).catch(() => 0);
  }

  /** Counts the events added since the last read; one read at a time. */
  private catchUp(): Promise<void> {
    this.reading = this.reading.then(async () => {
      let after = await this.lastId;
      for (let round = 0; round < 5; round++) {
        const events = await eventsSince(this.service.db, after, EVENTS_PER_SCRAPE);
        for (const e of events) this.count(e);
        if (events.length) after = events[events.length - 1].id;
        this.lastId = Promise.resolve(after);
        if (events.length < EVENTS_PER_SCRAPE) break;
      }
    });
    return this.reading;
  }

  private count(e: Awaited<ReturnType<typeof eventsSince>>[number]): void {
    const task = e.task ?? 'unknown';
    if (e.type === 'started') {
      if (e.attempt === 1 && e.queuedAt !== null) histogram(this.wait, task, WAIT_BUCKETS).observe(Math.max(0, e.at - e.queuedAt) / 1000);
      return;
    }
    if (e.type === 'retried') {
      this.retries.add({ task });
      if (e.message?.startsWith('worker lost')) this.recovered.add({ task, outcome: 'retried' });
      return;
    }
    this.finished.add({ task, status: e.type });
    if (e.type === 'failed' && e.message?.startsWith('worker lost')) this.recovered.add({ task, outcome: 'failed' });
    if (e.type !== 'cancelled' && e.startedAt !== null) histogram(this.run, task, RUN_BUCKETS).observe(Math.max(0, e.at - e.startedAt) / 1000);
    if (e.task !== null) this.outputBytes.add({ task }, e.outputBytes);
  }

  async render(): Promise<string> {
    const s = this.service;
    const now = s.now();
    await this.catchUp();
    const [active, oldest, workers, paused] = await Promise.all([
      activeCounts(s.db),
      oldestQueued(s.db, now),
      listWorkers(s.db, now, s.config.heartbeatMs),
      s.isPaused(),
    ]);
    const x = new Exposition();
    x.family('docket_jobs', 'gauge', 'Unfinished jobs by task and status (queued includes held chain steps and retries in backoff).',
      active.map((r) => ({ labels: { task: r.task, status: r.status }, value: r.n })));
    x.family('docket_queue_oldest_age_seconds', 'gauge', 'Age of the oldest queued job that may start now, by task.',
      oldest.map((r) => ({ labels: { task: r.task }, value: Math.max(0, now - r.queuedAt) / 1000 })));
    x.family('docket_jobs_finished_total', 'counter', 'Jobs that ended (completed, failed, cancelled) since this process started, by task.', this.finished.samples());
    x.family('docket_job_retries_total', 'counter', 'Attempts retried (after a failure or a lost worker, or by hand) since this process started.', this.retries.samples());
    x.family('docket_jobs_recovered_total', 'counter', 'Jobs taken back from lost workers since this process started, by outcome.', this.recovered.samples());
    x.family('docket_job_output_bytes_total', 'counter', 'Output bytes stored by jobs that ended since this process started.', this.outputBytes.samples());
    x.histogram('docket_job_wait_seconds', 'Time from enqueue to the first start, by task (jobs started since this process started).', this.wait, 'task');
    x.histogram('docket_job_run_seconds', 'Run time of the last attempt of completed and failed jobs, by task.', this.run, 'task');
    const byState = { active: 0, lost: 0, stopped: 0 };
    const byAbility = new Map<string, number>();
    for (const w of workers) {
      byState[w.state]++;
      if (w.state === 'active') for (const a of w.abilities) byAbility.set(a, (byAbility.get(a) ?? 0) + 1);
    }
    x.family('docket_workers', 'gauge', 'Workers seen in the last day, by state.',
      Object.entries(byState).map(([state, value]) => ({ labels: { state }, value })));
    x.family('docket_workers_active_by_ability', 'gauge', 'Active workers that take each task.',
      [...byAbility].map(([ability, value]) => ({ labels: { ability }, value })));
    x.family('docket_dispatch_republished_total', 'counter', "Queued jobs this process's dispatcher published again (the broker had not confirmed them).",
      [{ value: s.dispatcher.republished }]);
    x.family('docket_queue_paused', 'gauge', '1 while processing is paused.', [{ value: paused ? 1 : 0 }]);
    return x.text();
  }
}

function histogram(map: Map<string, Histogram>, key: string, buckets: readonly number[]): Histogram {
  let h = map.get(key);
  if (!h) {
    h = new Histogram(buckets);
    map.set(key, h);
  }
  return h;
}
