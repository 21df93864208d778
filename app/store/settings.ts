import type { Db } from '../db.js';

/** Small named values shared by every process: pause state, the session secret, ... */
export async function getSetting(db: Db, name: string): Promise<string | null> {
  const r = (await db('settings').where({ name }).first()) as { value: string } | undefined;
  return r ? r.value : null;
}

export async function setSetting(db: Db, name: string, value: string): Promise<void> {
  const n = await db('settings').where({ name }).update({ value });
  if (n === 0) {
    // Two processes may race to create it; the loser updates.
    try {
      await db('settings').insert({ name, value });
    } catch {
      await db('settings').where({ name }).update({ value });
    }
  }
}

/** Sets the value only if none exists, and returns the value that won. */
export async function getOrCreateSetting(db: Db, name: string, make: () => string): Promise<string> {
  const existing = await getSetting(db, name);
  if (existing !== null) return existing;
  try {
    await db('settings').insert({ name, value: make() });
  } catch {
    // Another process created it first: use theirs.
  }
  return (await getSetting(db, name)) as string;
}

/**
 * Replaces a value only if it is still `expected`: of several processes that read the
 * same value, one wins. Returns whether this one did.
 */
export async function replaceSetting(db: Db, name: string, expected: string, value: string): Promise<boolean> {
  return (await db('settings').where({ name, value: expected }).update({ value })) === 1;
}

/**
 * A turn at a periodic chore that one process at a time should do: true when `everyMs`
 * has passed since the last turn and this process won the compare-and-set on the
 * setting (the loser of a race sees its UPDATE match no row).
 */
export async function takeTurn(db: Db, name: string, now: number, everyMs: number): Promise<boolean> {
  const last = await getOrCreateSetting(db, name, () => '0');
  if (now - Number(last) < everyMs) return false;
  return replaceSetting(db, name, last, String(now));
}
