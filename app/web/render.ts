/**
 * Rendering pages: every view gets the signed-in user, the CSRF token for its forms,
 * one-time messages and the view helpers. Other page modules (the archival pages)
 * render through here too, so their pages share the layout and the protections.
 */
import type { Request, Response } from 'express';
import type { Flash } from './request.js';
import './request.js';

/** Queues a message for the next page the user sees (after a redirect). */
export function flash(req: Request, kind: Flash['kind'], text: string, link?: Flash['link']): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), link ? { kind, text, link } : { kind, text }].slice(-5);
}

function takeFlash(req: Request): Flash[] {
  const f = req.session?.flash;
  if (!f || f.length === 0) return [];
  delete req.session.flash;
  return f;
}

/**
 * The CSRF token for the page's forms. Asking for it stores one in the session, so an
 * anonymous visitor only gets one (and a session) on pages with a form: the login page.
 */
export function csrfTokenFor(req: Request, wanted: boolean): string {
  if (!wanted || !req.session || typeof req.csrfToken !== 'function') return '';
  return req.csrfToken();
}

/**
 * Renders `views/<view>.ejs` with the shared locals. A view includes
 * `partials/header` and `partials/footer` (they read `title`).
 * `locals.csrf: true` asks for a CSRF token even without a signed-in user.
 */
export function render(res: Response, view: string, locals: Record<string, unknown> = {}, status = 200): void {
  const req = res.req;
  const user = req.user ?? null;
  const fragment = Boolean(locals.fragment);
  res.status(status);
  if (!res.get('Cache-Control')) res.set('Cache-Control', 'no-store');
  res.render(view, {
    title: 'Docket',
    user,
    isAdmin: user?.role === 'admin',
    csrfToken: csrfTokenFor(req, Boolean(user) || Boolean(locals.csrf)),
    // A fragment (auto refresh) must not eat a message meant for the next full page.
    flashes: fragment ? [] : takeFlash(req),
    currentPath: req.path,
    ...locals,
  });
}

/**
 * Saves the session, then redirects (303). express-session saves a changed session
 * while the response is already under way, so a browser following a redirect at once
 * could read the session before a flash message (or anything else) landed in it.
 */
export async function saveAndRedirect(req: Request, res: Response, url: string): Promise<void> {
  if (req.session) {
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  }
  res.redirect(303, url);
}
