/** A user's notification settings: their email address and the default bell of new jobs. */
import type { Db } from '../db.js';
import { BadRequestError } from '../errors.js';

export interface Profile {
  email: string | null;
  /** New jobs mail their owner at the end unless the request says otherwise. Default off. */
  notifyDefault: boolean;
}

/**
 * A plain address (`name@host.tld`): it lands in a mail's To header, so no spaces, angle
 * brackets, commas or line breaks, and at most 254 characters (RFC 5321).
 */
export function validateEmail(email: string): string {
  const e = email.trim();
  if (e.length > 254 || !/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(e)) {
    throw new BadRequestError(`"${e.slice(0, 80)}" is not an email address (name@example.org)`);
  }
  return e;
}

export async function getProfile(db: Db, userId: number): Promise<Profile | null> {
  const r = (await db('users').select('email', 'notify_default').where({ id: userId }).first()) as
    | { email: string | null; notify_default: unknown }
    | undefined;
  if (!r) return null;
  return { email: r.email ?? null, notifyDefault: Boolean(Number(r.notify_default)) };
}

/** Sets what is given (an empty email removes it); false when there is no such user. */
export async function setProfile(db: Db, where: { id: number } | { username: string }, p: Partial<Profile>): Promise<boolean> {
  const patch: Record<string, unknown> = {};
  if (p.email !== undefined) patch.email = p.email === null || p.email.trim() === '' ? null : validateEmail(p.email);
  if (p.notifyDefault !== undefined) patch.notify_default = p.notifyDefault;
  if (Object.keys(patch).length === 0) return true;
  return (await db('users').where(where).update(patch)) === 1;
}
