/**
 * API tokens: created for a user, shown once (only a hash is stored), optionally with an
 * expiry, revocable, and refused once their user is disabled.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db.js';
import type { Role, User } from '../types.js';

type Row = Record<string, unknown>;

/** A token's last use is written at most this often: not a write on every request. */
export const LAST_USED_EVERY_MS = 60 * 1000;

export interface TokenInfo {
  id: number;
  userId: number;
  username: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
}

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A new API token for a user; only its hash is stored, so it is shown once. */
export async function createToken(db: Db, userId: number, name: string, expiresAt: number | null = null): Promise<string> {
  const token = `dkt_${randomBytes(24).toString('base64url')}`;
  await db('api_tokens').insert({ user_id: userId, name, token_hash: hashToken(token), created_at: Date.now(), expires_at: expiresAt });
  return token;
}

/**
 * The user a token acts as, or null when the token is unknown, revoked, expired or its
 * user disabled. Records the last use when the stored one is older than LAST_USED_EVERY_MS.
 */
export async function userForToken(db: Db, token: string, now = Date.now()): Promise<User | null> {
  const r = (await db('api_tokens')
    .join('users', 'users.id', 'api_tokens.user_id')
    .select('users.id', 'users.username', 'users.role', 'users.disabled_at', 'api_tokens.id as token_id')
    .select('api_tokens.last_used_at', 'api_tokens.expires_at', 'api_tokens.revoked_at')
    .where('api_tokens.token_hash', hashToken(token))
    .first()) as Row | undefined;
  if (!r || r.revoked_at !== null || r.disabled_at !== null) return null;
  const expiresAt = ms(r.expires_at);
  if (expiresAt !== null && expiresAt <= now) return null;
  const lastUsed = ms(r.last_used_at);
  if (lastUsed === null || now - lastUsed >= LAST_USED_EVERY_MS) {
    await db('api_tokens').where({ id: r.token_id }).update({ last_used_at: now });
  }
  return { id: Number(r.id), username: String(r.username), role: r.role as Role };
}

/** Tokens, newest first: every user's, one user's, or the one with this id. */
export async function listTokens(db: Db, only: { userId?: number; id?: number } = {}): Promise<TokenInfo[]> {
  const q = db('api_tokens')
    .join('users', 'users.id', 'api_tokens.user_id')
    .select('api_tokens.*', 'users.username')
    .orderBy('api_tokens.id', 'desc');
  if (only.userId !== undefined) q.where('api_tokens.user_id', only.userId);
  if (only.id !== undefined) q.where('api_tokens.id', only.id);
  const rows = (await q) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    userId: Number(r.user_id),
    username: String(r.username),
    name: String(r.name),
    createdAt: Number(r.created_at),
    lastUsedAt: ms(r.last_used_at),
    expiresAt: ms(r.expires_at),
    revokedAt: ms(r.revoked_at),
  }));
}

export async function getToken(db: Db, id: number): Promise<TokenInfo | null> {
  return (await listTokens(db, { id }))[0] ?? null;
}

/** Revokes a token: `revoked`, `already` (it was), or `missing`. */
export async function revokeToken(db: Db, id: number, now = Date.now()): Promise<'revoked' | 'already' | 'missing'> {
  const n = await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: now });
  if (n > 0) return 'revoked';
  const exists = await db('api_tokens').where({ id }).first('id');
  return exists ? 'already' : 'missing';
}
