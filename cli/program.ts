/**
 * `docket`: the administrator's command line. Exit codes: 0 success, 1 failure,
 * 2 usage error; errors go to stderr as one line. Each command group lives in
 * cli/commands/ with its options and its handler side by side.
 */
import { Command, CommanderError } from 'commander';
import type { CliIO } from './io.js';
import { UsageError } from './usage.js';

export type { CliIO } from './io.js';

type Register = (program: Command, io: CliIO) => void;

/**
 * The command groups, in the order of `docket --help`, with the commands each declares.
 * A command names its group, so that `docket run` imports cli/commands/run.ts alone and
 * not the other groups with what they pull in (exports, audit, groups, web presenters):
 * loading modules is most of a short command's time. A test checks these names against
 * what each group registers.
 */
export const COMMAND_GROUPS: ReadonlyArray<{ commands: readonly string[]; load: () => Promise<Register> }> = [
  { commands: ['start', 'web', 'worker', 'migrate'], load: async () => (await import('./commands/server.js')).registerServerCommands },
  { commands: ['users:add', 'users:set', 'users:passwd', 'users:disable', 'users:enable'], load: async () => (await import('./commands/users.js')).registerUserCommands },
  { commands: ['tokens:create', 'tokens:list', 'tokens:revoke'], load: async () => (await import('./commands/tokens.js')).registerTokenCommands },
  { commands: ['run', 'tasks'], load: async () => (await import('./commands/run.js')).registerRunCommands },
  {
    commands: ['jobs:list', 'jobs:show', 'jobs:cancel', 'jobs:retry', 'jobs:clear', 'jobs:delete', 'jobs:export'],
    load: async () => (await import('./commands/jobs.js')).registerJobCommands,
  },
  { commands: ['groups:create', 'groups:list', 'groups:show', 'groups:cancel', 'groups:retry'], load: async () => (await import('./commands/groups.js')).registerGroupCommands },
  {
    commands: ['queue:pause', 'queue:resume', 'queue:clear', 'queue:status', 'queue:pause-on-failure', 'workers'],
    load: async () => (await import('./commands/queue.js')).registerQueueCommands,
  },
  { commands: ['audit'], load: async () => (await import('./commands/audit.js')).registerAuditCommands },
];

/**
 * The program with the commands of every group, or, given a command name, of the group
 * that declares it only (anything else, help or a mistyped name included, gets them all,
 * so that help lists every command and commander can suggest the nearest).
 */
export async function buildProgram(io: CliIO, command?: string): Promise<Command> {
  const program = new Command('docket')
    .description('Docket: long-running archival work, done by workers, watched on the jobs page.')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  const own = COMMAND_GROUPS.find((g) => command !== undefined && g.commands.includes(command));
  const groups = own ? [own] : COMMAND_GROUPS;
  const registers = await Promise.all(groups.map((g) => g.load()));
  for (const register of registers) register(program, io);
  return program;
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = await buildProgram(io, argv[0]);
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      io.err(`docket: ${err.message}\n`);
      return 2;
    }
    io.err(`docket: ${(err as Error).message}\n`);
    return 1;
  }
}
