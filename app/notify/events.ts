/**
 * The words of notifications: the events a job may be told about, and a subscription
 * (what one job asked for). Shared by the store, the engine, web and CLI.
 */

/** A job's status changes a webhook or mail can follow. */
export const NOTIFY_EVENTS = ['queued', 'running', 'completed', 'failed', 'cancelled', 'retried'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** The end of a job: what `"notify": true` and a webhook without `events` follow. */
export const END_EVENTS: readonly NotifyEvent[] = ['completed', 'failed', 'cancelled'];

export interface Subscription {
  /** One of NOTIFY_EVENTS, or `*` for all of them. */
  event: string;
  /** `mail`: to `target`, or to the job's owner when `target` is null. `webhook`: POST to the URL template `target`. */
  kind: 'mail' | 'webhook';
  target: string | null;
}

/** A webhook as a request gives it: `{"url", "events"}`. */
export interface WebhookSpec {
  url: string;
  events?: string[];
}

/** The owner's end-of-job mails: the bell. */
export function ownerMailSubscriptions(): Subscription[] {
  return END_EVENTS.map((event) => ({ event, kind: 'mail', target: null }));
}
