/**
 * What Docket adds to Express's request and session, in one place.
 */
import type { User } from '../types.js';

/** A one-time message shown on the next page (after a redirect). */
export interface Flash {
  kind: 'info' | 'error';
  text: string;
  /** A link after the text (an envelope's page). */
  link?: { href: string; text: string };
}

declare module 'express-session' {
  interface SessionData {
    userId?: number;
    /** When this session signed in (ms): a password change or a disabled account ends older ones. */
    signedInAt?: number;
    flash?: Flash[];
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The signed-in user (by session or API token); unset for anonymous requests. */
    user?: User;
    /** How the user was recognised: API tokens skip the session and CSRF. */
    authVia?: 'session' | 'token';
  }
}

export {};
