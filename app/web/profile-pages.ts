/**
 * A user's own notification settings: the profile page (their email address, whether
 * their new jobs mail them at the end, off unless turned on, and the webhooks every job
 * of theirs is told about), `/api/profile/webhooks`, and the bell of one job.
 */
import express, { type Request, type Response } from 'express';
import type { Context } from '../context.js';
import { auditRequest } from '../audit.js';
import { ConflictError, ForbiddenError, HttpError, NotFoundError } from '../errors.js';
import { NOTIFY_EVENTS, ownerMailSubscriptions } from '../notify/events.js';
import { profileSubscription } from '../notify/subscribe.js';
import { ownerMailOn, setOwnerMail } from '../store/job-subscriptions.js';
import { getProfile, setProfile } from '../store/user-profile.js';
import { addUserWebhook, listUserWebhooks, MAX_USER_WEBHOOKS, removeUserWebhook, type UserWebhook } from '../store/user-webhooks.js';
import { FINAL_STATUSES, type User } from '../types.js';
import { requireUser } from './auth.js';
import { jobIdParam, one } from './http.js';
import { visibleJob } from './jobs-query.js';
import { flash, render, saveAndRedirect } from './render.js';

const field = (req: Request, name: string): string | null => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' ? last : null;
};

/** The bell of a job page: shown to the job's owner while the job has not ended. */
export async function bellState(ctx: Context, actor: User, job: { id: number; userId: number | null; status: string }) {
  const mine = job.userId === actor.id && !FINAL_STATUSES.includes(job.status as (typeof FINAL_STATUSES)[number]);
  return mine ? { on: await ownerMailOn(ctx.db, job.id) } : null;
}

/** A profile-wide subscription as the API shows it. */
const hookJson = (h: UserWebhook) => ({ id: h.id, url: h.target, kind: h.kind, events: h.events, createdAt: new Date(h.createdAt).toISOString() });

/** A subscription's id in a path: an unknown one is a 404. */
function hookIdParam(raw: unknown): number {
  const s = one(raw);
  if (!s || !/^[1-9][0-9]{0,15}$/.test(s)) throw new NotFoundError('No such webhook subscription');
  return Number(s);
}

/** Subscribes all the user's jobs to `url` (a 400 when it breaks a rule, a 409 past the limit), audited. */
async function subscribe(ctx: Context, req: Request, url: unknown, events: unknown): Promise<UserWebhook> {
  const user = req.user as User;
  const subs = profileSubscription(typeof url === 'string' ? url.trim() : url, events, ctx.config.notify.webhookAllow);
  const hook = await addUserWebhook(ctx.db, user.id, subs, Date.now());
  if (!hook) throw new ConflictError(`you already have ${MAX_USER_WEBHOOKS} webhook subscriptions; remove one first`);
  await auditRequest(ctx, req, 'profile.webhook.add', `user ${user.username}`, { detail: `${hook.target.slice(0, 200)} (${hook.events.join(', ')})` });
  return hook;
}

async function unsubscribe(ctx: Context, req: Request, id: number): Promise<UserWebhook> {
  const user = req.user as User;
  const hook = await removeUserWebhook(ctx.db, user.id, id);
  if (!hook) throw new NotFoundError('No such webhook subscription');
  await auditRequest(ctx, req, 'profile.webhook.remove', `user ${user.username}`, { detail: hook.target.slice(0, 200) });
  return hook;
}

/** `GET/POST/DELETE /api/profile/webhooks`: mounted on the API's router (its auth and errors). */
export function profileApiRoutes(ctx: Context, router: express.Router): void {
  router.get('/profile/webhooks', async (req: Request, res: Response) => {
    res.json({ webhooks: (await listUserWebhooks(ctx.db, (req.user as User).id)).map(hookJson) });
  });
  router.post('/profile/webhooks', async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const hook = await subscribe(ctx, req, body.url, body.events);
    res.status(201).set('Location', `/api/profile/webhooks/${hook.id}`).json({ webhook: hookJson(hook) });
  });
  router.delete('/profile/webhooks/:id', async (req: Request, res: Response) => {
    await unsubscribe(ctx, req, hookIdParam(req.params.id));
    res.status(204).end();
  });
}

export function profileRoutes(ctx: Context): express.Router {
  const router = express.Router();

  const page = async (req: Request, res: Response, extra: { profile?: unknown; error?: string | null; hook?: unknown } = {}, status = 200) => {
    const user = req.user as User;
    const profile = extra.profile ?? (await getProfile(ctx.db, user.id));
    const hooks = await listUserWebhooks(ctx.db, user.id);
    render(res, 'profile', { title: 'Your profile', profile, hooks, events: NOTIFY_EVENTS, hookForm: extra.hook ?? null, error: extra.error ?? null }, status);
  };

  router.get('/profile', requireUser, async (req: Request, res: Response) => page(req, res));

  router.post('/profile/webhooks', requireUser, async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const url = field(req, 'url') ?? '';
    const raw = body.events;
    const chosen = raw === undefined ? undefined : (Array.isArray(raw) ? raw : [raw]).filter((e) => typeof e === 'string');
    try {
      const hook = await subscribe(ctx, req, url, chosen);
      flash(req, 'info', `Every job of yours now ${hook.kind === 'mail' ? `mails ${hook.target}` : 'calls this webhook'} on ${hook.events.join(', ')}.`);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      return page(req, res, { error: err.message, hook: { url, events: chosen ?? [] } }, err.status);
    }
    await saveAndRedirect(req, res, '/profile');
  });

  router.post('/profile/webhooks/:id/delete', requireUser, async (req: Request, res: Response) => {
    const hook = await unsubscribe(ctx, req, hookIdParam(req.params.id));
    flash(req, 'info', `Your jobs no longer notify ${hook.target}.`);
    await saveAndRedirect(req, res, '/profile');
  });

  router.post('/profile', requireUser, async (req: Request, res: Response) => {
    const user = req.user as User;
    const email = (field(req, 'email') ?? '').trim();
    const notifyDefault = field(req, 'notify_default') === 'true';
    try {
      if (notifyDefault && email === '') throw new HttpError(400, 'Give an email address to be mailed at the end of your jobs.');
      await setProfile(ctx.db, { id: user.id }, { email, notifyDefault });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      return page(req, res, { profile: { email, notifyDefault }, error: err.message }, err.status);
    }
    flash(req, 'info', 'Your notification settings are saved.');
    await saveAndRedirect(req, res, '/profile');
  });

  // The bell: the owner's end-of-job mail, on or off, for one unfinished job.
  router.post('/jobs/:id/notify', requireUser, async (req: Request, res: Response) => {
    const user = req.user as User;
    const job = await visibleJob(ctx, user, jobIdParam(req.params.id));
    if (!(await bellState(ctx, user, job))) throw new ForbiddenError('Only the owner of an unfinished job can change its mail.');
    const on = field(req, 'on') === 'true';
    if (on && !(await getProfile(ctx.db, user.id))?.email) {
      flash(req, 'error', 'Set your email address on your profile first.');
      return saveAndRedirect(req, res, `/jobs/${job.id}`);
    }
    await setOwnerMail(ctx.db, job.id, on, ownerMailSubscriptions());
    flash(req, 'info', on ? 'You will get a mail when this job ends.' : 'No mail when this job ends.');
    await saveAndRedirect(req, res, `/jobs/${job.id}`);
  });

  return router;
}
