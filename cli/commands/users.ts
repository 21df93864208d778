/** Accounts: add, change a password, disable and enable. */
import { COMMAND_LINE, recordAudit } from '../../app/audit.js';
import { Option, type Command } from 'commander';
import { setProfile } from '../../app/store/user-profile.js';
import { createUser, setDisabled, setPassword } from '../../app/store/users.js';
import { UsageError } from '../usage.js';
import type { Role } from '../../app/types.js';
import { action } from '../action.js';
import { readStdinLine, type CliIO } from '../io.js';

interface PasswordOpts {
  password?: string;
}

const password = (opts: PasswordOpts, io: CliIO): Promise<string> =>
  opts.password !== undefined ? Promise.resolve(opts.password) : readStdinLine(io.stdin);

export function registerUserCommands(program: Command, io: CliIO): void {
  program
    .command('users:add')
    .argument('<name>', 'username')
    .description('add a user (password from --password or the first line of stdin)')
    .addOption(new Option('--role <role>', 'admin or archivist').choices(['admin', 'archivist']).makeOptionMandatory())
    .option('--password <password>', 'the password (else read from stdin)')
    .option('--email <address>', 'where notifications of their jobs are mailed')
    .action(
      action<PasswordOpts & { role: Role; email?: string }>(io, async (ctx, [name], opts) => {
        const user = await createUser(ctx.db, name, await password(opts, io), opts.role);
        if (opts.email !== undefined) await setProfile(ctx.db, { id: user.id }, { email: opts.email });
        io.out(`added ${user.role} "${user.username}"${opts.email ? ` <${opts.email.trim()}>` : ''}\n`);
        return 0;
      }),
    );

  program
    .command('users:set')
    .argument('<name>', 'username')
    .description("set a user's email address (empty removes it) and whether their jobs mail them at the end by default")
    .option('--email <address>', 'where notifications of their jobs are mailed ("" removes it)')
    .addOption(new Option('--notify-default <on|off>', 'mail at the end of each new job unless it says otherwise').choices(['on', 'off']))
    .action(
      action<{ email?: string; notifyDefault?: 'on' | 'off' }>(io, async (ctx, [name], opts) => {
        if (opts.email === undefined && opts.notifyDefault === undefined) throw new UsageError('users:set needs --email or --notify-default');
        const notifyDefault = opts.notifyDefault === undefined ? undefined : opts.notifyDefault === 'on';
        if (!(await setProfile(ctx.db, { username: name }, { email: opts.email, notifyDefault }))) throw new UsageError(`no user "${name}"`);
        io.out(`user "${name}" updated\n`);
        return 0;
      }),
    );

  program
    .command('users:passwd')
    .argument('<name>', 'username')
    .description("set a user's password (from --password or stdin); ends the user's sessions")
    .option('--password <password>', 'the password (else read from stdin)')
    .action(
      action<PasswordOpts>(io, async (ctx, [name], opts) => {
        await setPassword(ctx.db, name, await password(opts, io));
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'user.password', target: `user ${name}` });
        io.out(`password of "${name}" changed; its sessions are signed out\n`);
        return 0;
      }),
    );

  program
    .command('users:disable')
    .argument('<name>', 'username')
    .description("disable a user: its sessions and API tokens stop working at once")
    .action(
      action<object>(io, async (ctx, [name]) => {
        const changed = await setDisabled(ctx.db, name, true);
        io.out(changed ? `user "${name}" disabled; its sessions and tokens no longer work\n` : `user "${name}" was already disabled\n`);
        return 0;
      }),
    );

  program
    .command('users:enable')
    .argument('<name>', 'username')
    .description('enable a disabled user again (its unrevoked tokens work again; it signs in anew)')
    .action(
      action<object>(io, async (ctx, [name]) => {
        const changed = await setDisabled(ctx.db, name, false);
        io.out(changed ? `user "${name}" enabled\n` : `user "${name}" was not disabled\n`);
        return 0;
      }),
    );
}
