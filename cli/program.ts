/**
 * `docket`: the administrator's command line. Exit codes: 0 success, 1 failure,
 * 2 usage error; errors go to stderr as one line. Each command group lives in
 * cli/commands/ with its options and its handler side by side.
 */
import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './commands/audit.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerRunCommands } from './commands/run.js';
import { registerServerCommands } from './commands/server.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUserCommands } from './commands/users.js';
import type { CliIO } from './io.js';
import { UsageError } from './usage.js';

export type { CliIO } from './io.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command('docket')
    .description('Docket: long-running archival work, done by workers, watched on the jobs page.')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  // The order here is the order of `docket --help`.
  registerServerCommands(program, io);
  registerUserCommands(program, io);
  registerTokenCommands(program, io);
  registerRunCommands(program, io);
  registerJobCommands(program, io);
  registerGroupCommands(program, io);
  registerQueueCommands(program, io);
  registerAuditCommands(program, io);
  return program;
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
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
