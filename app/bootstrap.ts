import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import { countUsers, createUser } from './store/users.js';

/**
 * On first start, creates the `admin` account, with DOCKET_ADMIN_PASSWORD or a
 * generated password that is printed once. Returns what to tell the operator, or null
 * when users already exist.
 */
export async function ensureAdmin(db: Db, password: string | null): Promise<string | null> {
  if ((await countUsers(db)) > 0) return null;
  const pw = password ?? randomBytes(9).toString('base64url');
  try {
    await createUser(db, 'admin', pw, 'admin');
  } catch {
    return null; // another process created it first
  }
  return password
    ? 'created the administrator "admin" with the password from DOCKET_ADMIN_PASSWORD'
    : `created the administrator "admin" with the password ${pw} (shown once; change it with: docket users:passwd admin)`;
}
