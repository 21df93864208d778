import type { Db } from '../db.js';
import { BadRequestError, ConflictError } from '../errors.js';
import { endSessionsOf } from './sessions.js';
import type { Role, User } from '../types.js';

type Row = Record<string, unknown>;

/** bcryptjs, loaded when a password is hashed or checked: most commands never do. */
const bcrypt = async (): Promise<typeof import('bcryptjs').default> => (await import('bcryptjs')).default;

const toUser = (r: Row): User => ({ id: Number(r.id), username: String(r.username), role: r.role as Role });

export const ROLES: readonly Role[] = ['admin', 'archivist'];

export function validateUsername(name: string): void {
  if (!/^[A-Za-z0-9_.@-]{1,100}$/.test(name)) {
    throw new BadRequestError('a username is 1 to 100 letters, digits or _ . @ -');
  }
}

export async function createUser(db: Db, username: string, password: string, role: Role): Promise<User> {
  validateUsername(username);
  if (!ROLES.includes(role)) throw new BadRequestError(`role must be admin or archivist, not "${role}"`);
  if (password.length < 8) throw new BadRequestError('a password needs at least 8 characters');
  if (await findUser(db, username)) throw new ConflictError(`user "${username}" already exists`);
  const hash = await (await bcrypt()).hash(password, 10);
  const [id] = await db('users').insert({ username, password_hash: hash, role, created_at: Date.now() });
  return { id: Number(id), username, role };
}

export async function findUser(db: Db, username: string): Promise<User | null> {
  const r = (await db('users').where({ username }).first()) as Row | undefined;
  return r ? toUser(r) : null;
}

export async function getUser(db: Db, id: number): Promise<User | null> {
  const r = (await db('users').where({ id }).first()) as Row | undefined;
  return r ? toUser(r) : null;
}

export async function countUsers(db: Db): Promise<number> {
  const r = (await db('users').count({ n: '*' }).first()) as { n: number | string };
  return Number(r.n);
}

/** The user when the password matches; a missing user costs the same time as a wrong password. */
export async function verifyPassword(db: Db, username: string, password: string): Promise<User | null> {
  const r = (await db('users').where({ username }).first()) as Row | undefined;
  const hash = r ? String(r.password_hash) : '$2b$10$invalidinvalidinvalidinuJ0Sx4m0F1V2oQ8r9s5t6u7v8w9xyz';
  const ok = await (await bcrypt()).compare(password, hash);
  // A disabled account cannot sign in (answered like a wrong password: no account probing).
  return ok && r && r.disabled_at === null ? toUser(r) : null;
}

/**
 * Sets a password and ends every session of the user: whoever signed in with the old
 * password is signed out at once. (The only way to change a password is the command
 * line, so there is no session of the changer's own to keep.)
 */
export async function setPassword(db: Db, username: string, password: string): Promise<void> {
  if (password.length < 8) throw new BadRequestError('a password needs at least 8 characters');
  const user = await findUser(db, username);
  if (!user) throw new BadRequestError(`no user "${username}"`);
  const now = Date.now();
  await db('users')
    .where({ id: user.id })
    .update({ password_hash: await (await bcrypt()).hash(password, 10), sessions_valid_from: now });
  await endSessionsOf(db, user.id, null);
}

/** What decides whether a signed-in session still counts (see `sessionStillValid`). */
export interface Account {
  user: User;
  disabledAt: number | null;
  /** Sessions signed in before this time no longer sign anyone in. */
  sessionsValidFrom: number | null;
}

export async function getAccount(db: Db, id: number): Promise<Account | null> {
  const r = (await db('users').where({ id }).first()) as Row | undefined;
  if (!r) return null;
  const ms = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return { user: toUser(r), disabledAt: ms(r.disabled_at), sessionsValidFrom: ms(r.sessions_valid_from) };
}

/** Every account, by username (the administrators' tokens page). */
export async function listAccounts(db: Db): Promise<Account[]> {
  const rows = (await db('users').orderBy('username')) as Row[];
  const ms = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({ user: toUser(r), disabledAt: ms(r.disabled_at), sessionsValidFrom: ms(r.sessions_valid_from) }));
}

/** A session signed in at `signedInAt` still signs this account in. */
export function sessionStillValid(account: Account, signedInAt: number | undefined): boolean {
  if (account.disabledAt !== null) return false;
  return account.sessionsValidFrom === null || (signedInAt ?? 0) >= account.sessionsValidFrom;
}

/**
 * Disables (or enables again) an account. Disabling ends its sessions and refuses its
 * tokens at once; enabling brings the tokens back (sessions stay ended). Returns false
 * when the account already was in that state.
 */
export async function setDisabled(db: Db, username: string, disabled: boolean): Promise<boolean> {
  const user = await findUser(db, username);
  if (!user) throw new BadRequestError(`no user "${username}"`);
  const now = Date.now();
  const q = db('users').where({ id: user.id });
  const n = disabled
    ? await q.whereNull('disabled_at').update({ disabled_at: now, sessions_valid_from: now })
    : await q.whereNotNull('disabled_at').update({ disabled_at: null });
  if (disabled) await endSessionsOf(db, user.id, null);
  return n > 0;
}
