import type { Knex } from 'knex';

/**
 * Tokens and accounts that can be ended:
 * - `api_tokens.expires_at` (set by `tokens:create --expires`) and `revoked_at`
 *   (`tokens:revoke`, the administrators' tokens page); a token past either is refused.
 * - `users.disabled_at` (`users:disable`): the account's sessions and tokens stop working.
 * - `users.sessions_valid_from`: a session signed in before this time no longer signs
 *   anyone in (set by a password change and by disabling), so a session row that an
 *   in-flight request writes back after its deletion is refused all the same.
 * All are milliseconds since the epoch, null when unset, as every other time column.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_tokens', (t) => {
    t.bigInteger('expires_at').nullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['user_id'], 'api_tokens_user');
  });
  await knex.schema.alterTable('users', (t) => {
    t.bigInteger('disabled_at').nullable();
    t.bigInteger('sessions_valid_from').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('sessions_valid_from');
    t.dropColumn('disabled_at');
  });
  await knex.schema.alterTable('api_tokens', (t) => {
    t.dropIndex(['user_id'], 'api_tokens_user');
    t.dropColumn('revoked_at');
    t.dropColumn('expires_at');
  });
}
