/**
 * A request's `notify` and `webhooks` checked into the subscriptions stored with its job;
 * anything wrong is a 400 that says what and where, before the job exists.
 */
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { BadRequestError } from '../errors.js';
import { getProfile, validateEmail, type Profile } from '../store/user-profile.js';
import type { NewJob } from '../types.js';
import { END_EVENTS, NOTIFY_EVENTS, ownerMailSubscriptions, type Subscription, type WebhookSpec } from './events.js';
import { expandUrl, TEMPLATE_VARIABLES } from './payload.js';
import { checkAddress, checkUrl, parseAllowList, RefusedTarget } from './ssrf.js';

/** Webhooks one job may carry. */
export const MAX_WEBHOOKS = 10;
const MAX_URL = 2000;

const looksLikeEmail = (s: string) => !s.includes('://') && /^[^\s@/]+@[^\s@/]+$/.test(s);

/** Checks `webhooks` from a request; returns their subscriptions. */
export function webhookSubscriptions(raw: unknown, allowEntries: readonly string[]): Subscription[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new BadRequestError('webhooks must be an array of {"url": "...", "events": [...]}');
  if (raw.length > MAX_WEBHOOKS) throw new BadRequestError(`a job may carry at most ${MAX_WEBHOOKS} webhooks, not ${raw.length}`);
  const allow = parseAllowList(allowEntries);
  const subs: Subscription[] = [];
  raw.forEach((w: unknown, i) => {
    const where = `webhooks[${i}]`;
    if (!w || typeof w !== 'object' || Array.isArray(w)) throw new BadRequestError(`${where} must be {"url": "...", "events": [...]}`);
    const { url, events } = w as Partial<WebhookSpec>;
    if (typeof url !== 'string' || url.trim() === '') throw new BadRequestError(`${where}.url must be a URL or an email address`);
    if (url.length > MAX_URL) throw new BadRequestError(`${where}.url is ${url.length} characters; the limit is ${MAX_URL}`);
    const chosen = eventsOf(events, where);
    if (looksLikeEmail(url.trim())) {
      const to = validateEmail(url);
      for (const event of chosen) subs.push({ event, kind: 'mail', target: to });
      return;
    }
    checkTemplate(url, where, allow);
    for (const event of chosen) subs.push({ event, kind: 'webhook', target: url });
  });
  return subs;
}

function eventsOf(events: unknown, where: string): string[] {
  if (events === undefined || events === null) return [...END_EVENTS];
  const all = [...NOTIFY_EVENTS, '*'] as string[];
  if (!Array.isArray(events) || events.length === 0 || events.some((e) => typeof e !== 'string' || !all.includes(e))) {
    throw new BadRequestError(`${where}.events must be a non-empty list of ${all.join(', ')}`);
  }
  const set = [...new Set(events as string[])];
  // `*` covers every event: storing others beside it would send them twice.
  return set.includes('*') ? ['*'] : set;
}

/** Known variables only, and a URL that may be reached once they are filled in. */
function checkTemplate(url: string, where: string, allow: ReturnType<typeof parseAllowList>): void {
  const unknown = [...url.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]).filter((n) => !TEMPLATE_VARIABLES.includes(n));
  if (unknown.length) {
    throw new BadRequestError(`${where}.url uses unknown variable \${${unknown[0]}}; known: ${TEMPLATE_VARIABLES.map((v) => `\${${v}}`).join(', ')}`);
  }
  const sample = Object.fromEntries(TEMPLATE_VARIABLES.map((v) => [v, 'x']));
  try {
    const u = checkUrl(expandUrl(url, sample));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    // A name is judged when it is looked up, at each delivery; an address can be judged now.
    if (/^[0-9.]+$/.test(host) || host.includes(':')) checkAddress(host, host, allow);
  } catch (err) {
    if (err instanceof RefusedTarget) throw new BadRequestError(`${where}.url refused: ${err.message}`);
    throw err;
  }
}

/**
 * The owner's end-of-job mail: asked for (`notify: true`), refused (`false`), or the
 * owner's default. Asking for it without an address is a 400.
 */
export function ownerMail(notify: unknown, owner: { username: string; profile: Profile | null } | null): Subscription[] {
  if (notify !== undefined && notify !== null && typeof notify !== 'boolean') throw new BadRequestError('notify must be true or false');
  const want = notify ?? owner?.profile?.notifyDefault ?? false;
  if (!want) return [];
  if (!owner) throw new BadRequestError('notify mails the job\'s owner, and a command-line job has none: give --user NAME, or a --webhook with an email address');
  if (!owner.profile?.email) {
    // The default never refuses a job: only an explicit request does.
    if (notify === undefined || notify === null) return [];
    throw new BadRequestError(`${owner.username} has no email address to notify: set one on the profile page (/profile) or with docket users:set ${owner.username} --email E`);
  }
  return ownerMailSubscriptions();
}

/**
 * The mail and webhooks a request asks for (a 400 when they are wrong). `profiles` keeps
 * the owners' profiles read so far (a bulk enqueue reads its one owner's once).
 */
export async function requestSubscriptions(
  db: Db,
  config: Config,
  req: NewJob,
  profiles = new Map<number, Profile | null>(),
): Promise<Subscription[]> {
  const hooks = webhookSubscriptions(req.webhooks, config.notify.webhookAllow);
  if (req.notify === false) return hooks;
  const user = req.user;
  if (user && !profiles.has(user.id)) profiles.set(user.id, await getProfile(db, user.id));
  const owner = user ? { username: user.username, profile: profiles.get(user.id) ?? null } : null;
  return [...ownerMail(req.notify, owner), ...hooks];
}

/**
 * One profile-wide subscription from a form or `POST /api/profile/webhooks`: the same
 * rules as a job's webhook (variables, SSRF, an email address as url sends mail).
 * Returns its subscriptions, one per event, all with the same kind and target.
 */
export function profileSubscription(url: unknown, events: unknown, allowEntries: readonly string[]): Subscription[] {
  try {
    return webhookSubscriptions([{ url, events }], allowEntries);
  } catch (err) {
    if (err instanceof BadRequestError) throw new BadRequestError(err.message.replace(/webhooks\[0\]\./g, ''));
    throw err;
  }
}
