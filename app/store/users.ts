import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Db } from '../db.js';
import { BadRequestError, ConflictError } from '../errors.js';
import type { Role, User } from '../types.js';

type Row = Record<string, unknown>;

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
  const hash = await bcrypt.hash(password, 10);
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
  const ok = await bcrypt.compare(password, hash);
  return ok && r ? toUser(r) : null;
}

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new API token for a user; only its hash is stored, so it is shown once. */
export async function createToken(db: Db, userId: number, name: string): Promise<string> {
  const token = `dkt_${randomBytes(24).toString('base64url')}`;
  await db('api_tokens').insert({ user_id: userId, name, token_hash: hashToken(token), created_at: Date.now() });
  return token;
}

export async function userForToken(db: Db, token: string): Promise<User | null> {
  const r = (await db('api_tokens')
    .join('users', 'users.id', 'api_tokens.user_id')
    .select('users.id', 'users.username', 'users.role', 'api_tokens.id as token_id')
    .where('api_tokens.token_hash', hashToken(token))
    .first()) as Row | undefined;
  if (!r) return null;
  await db('api_tokens').where({ id: r.token_id }).update({ last_used_at: Date.now() });
  return toUser(r);
}

export async function setPassword(db: Db, username: string, password: string): Promise<void> {
  if (password.length < 8) throw new BadRequestError('a password needs at least 8 characters');
  const n = await db('users')
    .where({ username })
    .update({ password_hash: await bcrypt.hash(password, 10) });
  if (n === 0) throw new BadRequestError(`no user "${username}"`);
}
