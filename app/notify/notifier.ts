/**
 * Sends what the outbox holds: every process's maintenance sweep kicks it, and it takes
 * due notifications under a lease, sends them (a few at once, so one slow receiver does
 * not hold the others) and records each try in the job's history. A failed try is retried
 * with exponential backoff (DOCKET_NOTIFY_BACKOFF_MS, doubling, at most an hour apart)
 * until DOCKET_NOTIFY_GIVE_UP_MS after the event (a day); a refused target, a redirect or
 * a missing address fail at once, since no retry could change them.
 */
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { getJob } from '../store/job-read.js';
import { claimDue, recordTry, type OutboxItem, type TryResult } from '../store/outbox.js';
import { getProfile } from '../store/user-profile.js';
import type { Job } from '../types.js';
import { jobMail } from './mail-message.js';
import { sendMail } from './mail-send.js';
import { expandUrl, jobPayload, templateVariables } from './payload.js';
import { parseAllowList, RefusedTarget, type AllowList } from './ssrf.js';
import { postWebhook } from './webhook.js';

/** Notifications sent at once by one process. */
const BATCH = 10;
/** The longest wait between two tries. */
const MAX_BACKOFF_MS = 3_600_000;

/** A try that cannot succeed later: fail the notification now. */
class Permanent extends Error {}

export class Notifier {
  private readonly allow: AllowList;
  private running: Promise<number> | null = null;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly actor: string,
  ) {
    this.allow = parseAllowList(config.notify.webhookAllow);
  }

  /** Starts a sweep unless one is running; never waits for it (a receiver may take 10 s). */
  kick(): void {
    this.running ??= this.sweep()
      .catch((err: unknown) => {
        this.log.warn(`notification sweep failed: ${describeError(err)}`);
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** Waits for the sweep in progress, if any (a process that stops). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Sends due notifications until none is left; returns how many tries were made. */
  async sweep(): Promise<number> {
    const leaseMs = this.config.notify.webhookTimeoutMs + 30_000;
    let n = 0;
    for (;;) {
      const items = await claimDue(this.db, this.actor, Date.now(), leaseMs, BATCH);
      if (items.length === 0) return n;
      await Promise.all(items.map((item) => this.deliver(item)));
      n += items.length;
    }
  }

  private async deliver(item: OutboxItem): Promise<void> {
    const job = await getJob(this.db, item.jobId);
    let r: TryResult;
    const now = () => Date.now();
    if (!job) {
      r = { state: 'failed', dueAt: now(), status: null, error: 'the job is gone', message: 'the job is gone' };
    } else {
      try {
        r = item.kind === 'webhook' ? await this.webhook(item, job) : await this.mail(item, job);
      } catch (err) {
        r = this.failed(item, err, now());
      }
    }
    const ok = await recordTry(this.db, item, this.actor, r, now(), this.actor);
    if (ok && r.state === 'failed') this.log.warn(`job ${item.jobId}: notification ${item.id} given up: ${r.message}`);
  }

  private async webhook(item: OutboxItem, job: Job): Promise<TryResult> {
    const base = this.config.notify.baseUrl;
    const url = expandUrl(item.target ?? '', templateVariables(job, item.event, base));
    const body = JSON.stringify({ event: item.event, job: jobPayload(job, base) });
    const shown = shortUrl(url);
    const answer = await postWebhook(url, body, {
      deliveryId: String(item.id),
      event: item.event,
      secret: this.config.notify.webhookSecret,
      allow: this.allow,
      timeoutMs: this.config.notify.webhookTimeoutMs,
      now: Date.now(),
    });
    const tryNo = item.tries + 1;
    if (answer.status >= 200 && answer.status < 300) {
      return { state: 'sent', dueAt: Date.now(), status: answer.status, error: null, message: `webhook ${item.event} to ${shown}: ${answer.status} (try ${tryNo})` };
    }
    if (answer.status >= 300 && answer.status < 400) {
      throw new Permanent(`webhook ${item.event} to ${shown}: ${answer.status}, a redirect, which is not followed`);
    }
    return this.retryLater(item, answer.status, `webhook ${item.event} to ${shown}: ${answer.status} ${answer.body}`.trim(), Date.now());
  }

  private async mail(item: OutboxItem, job: Job): Promise<TryResult> {
    const to = item.target ?? (job.userId === null ? null : ((await getProfile(this.db, job.userId))?.email ?? null));
    if (!to) throw new Permanent(`mail ${item.event}: ${job.username ?? 'the command line'} has no email address; not sent`);
    const { subject, text } = jobMail(job, item.event, this.config.notify.baseUrl);
    const host = new URL(this.config.notify.baseUrl).hostname;
    const sent = await sendMail(this.config.notify, {
      from: this.config.notify.mailFrom,
      to,
      subject,
      text,
      messageId: `<docket.${item.jobId}.${item.id}@${host}>`,
      deliveryId: String(item.id),
    });
    return { state: 'sent', dueAt: Date.now(), status: null, error: null, message: `mail ${item.event} to ${to}: sent via ${sent.where} (try ${item.tries + 1})` };
  }

  private failed(item: OutboxItem, err: unknown, now: number): TryResult {
    const what = item.kind === 'webhook' ? `webhook ${item.event} to ${shortUrl(item.target ?? '')}` : `mail ${item.event}`;
    if (err instanceof Permanent) return { state: 'failed', dueAt: now, status: null, error: err.message, message: err.message };
    if (err instanceof RefusedTarget) {
      const m = `${what}: refused: ${err.message}`;
      return { state: 'failed', dueAt: now, status: null, error: m, message: m };
    }
    return this.retryLater(item, null, `${what}: ${describeError(err)}`, now);
  }

  /** Another try after the backoff, or given up when that would pass the day. */
  private retryLater(item: OutboxItem, status: number | null, why: string, now: number): TryResult {
    const { backoffMs, giveUpMs } = this.config.notify;
    const delay = Math.min(backoffMs * 2 ** item.tries, MAX_BACKOFF_MS);
    const tryNo = item.tries + 1;
    if (now + delay - item.createdAt > giveUpMs) {
      const m = `${why} (try ${tryNo}; given up)`;
      return { state: 'failed', dueAt: now, status, error: m, message: m };
    }
    const m = `${why} (try ${tryNo}; next in ${Math.round(delay / 100) / 10} s)`;
    return { state: 'pending', dueAt: now + delay, status, error: m, message: m };
  }
}

/** Scheme, host and path: the history need not repeat a long query string. */
function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.slice(0, 100);
  }
}
