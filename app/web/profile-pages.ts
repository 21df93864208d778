/**
 * A user's own notification settings: the profile page (their email address, and whether
 * their new jobs mail them at the end, off unless turned on) and the bell of one job.
 */
import express, { type Request, type Response } from 'express';
import type { Context } from '../context.js';
import { ForbiddenError, HttpError } from '../errors.js';
import { ownerMailSubscriptions } from '../notify/events.js';
import { ownerMailOn, setOwnerMail } from '../store/job-subscriptions.js';
import { getProfile, setProfile } from '../store/user-profile.js';
import { FINAL_STATUSES, type User } from '../types.js';
import { requireUser } from './auth.js';
import { jobIdParam } from './http.js';
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

export function profileRoutes(ctx: Context): express.Router {
  const router = express.Router();

  router.get('/profile', requireUser, async (req: Request, res: Response) => {
    const profile = await getProfile(ctx.db, (req.user as User).id);
    render(res, 'profile', { title: 'Your profile', profile, error: null });
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
      return render(res, 'profile', { title: 'Your profile', profile: { email, notifyDefault }, error: err.message }, err.status);
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
