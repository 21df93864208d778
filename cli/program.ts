/**
 * `docket`: the administrator's command line. Exit codes: 0 success, 1 failure,
 * 2 usage error; errors go to stderr as one line.
 */
import { Command, CommanderError, Option } from 'commander';
import { runCommand, type CliIO } from './commands.js';
import { UsageError } from './usage.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command('docket')
    .description('Docket: long-running archival work, done by workers, watched on the jobs page.')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  const act =
    (name: string) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      io.exitCode = await runCommand(name, cmd.args, cmd.opts(), io);
    };

  program
    .command('start')
    .description('run the web app and a worker in one process (what npm start runs)')
    .option('--concurrency <n>', 'jobs the worker runs at once', '2')
    .action(act('start'));
  program.command('web').description('run the web app only').action(act('web'));
  program
    .command('worker')
    .description('run a worker: claims jobs, runs each in a child process')
    .option('--abilities <tasks>', 'comma-separated tasks this worker runs (default: all)')
    .option('--concurrency <n>', 'jobs at once', '2')
    .option('--max-jobs <n>', 'recycle a child process after N jobs', '10000')
    .option('--max-memory <mb>', 'recycle a child process above this many MB', '512')
    .option('--stop-timeout <s>', 'on SIGTERM, seconds running jobs get before they are handed back', '30')
    .action(act('worker'));
  program.command('migrate').description('create or update the database tables').action(act('migrate'));

  program
    .command('users:add')
    .argument('<name>', 'username')
    .description('add a user (password from --password or the first line of stdin)')
    .addOption(new Option('--role <role>', 'admin or archivist').choices(['admin', 'archivist']).makeOptionMandatory())
    .option('--password <password>', 'the password (else read from stdin)')
    .action(act('users:add'));
  program
    .command('users:passwd')
    .argument('<name>', 'username')
    .description("set a user's password (from --password or stdin)")
    .option('--password <password>', 'the password (else read from stdin)')
    .action(act('users:passwd'));
  program
    .command('tokens:create')
    .argument('<name>', 'username the token acts as')
    .description('print a new API token (Authorization: Bearer <token>)')
    .option('--label <label>', 'what the token is for', 'cli')
    .action(act('tokens:create'));

  program
    .command('run')
    .argument('<task>', 'task name (docket tasks lists them)')
    .description('enqueue a job: docket run TASK [--PARAM VALUE ...] [--user NAME] [--priority high|normal|low] [--wait]')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(act('run'));
  program.command('tasks').description('list the tasks and their parameters').option('--json', 'as JSON').action(act('tasks'));

  program
    .command('jobs:list')
    .description('list jobs, newest first')
    .addOption(new Option('--tab <tab>', 'which jobs').choices(['all', 'active', 'failed']).default('all'))
    .option('--limit <n>', 'how many (0 means all)', '50')
    .option('--json', 'print a JSON array')
    .action(act('jobs:list'));
  program
    .command('jobs:show')
    .argument('<id>', 'job id')
    .option('--json', 'as JSON')
    .description("show a job: times, worker, attempts, events and output")
    .action(act('jobs:show'));
  program.command('jobs:cancel').argument('<id>', 'job id').description('cancel a queued or running job').action(act('jobs:cancel'));
  program.command('jobs:retry').argument('<id>', 'job id').description('retry a failed or cancelled job').action(act('jobs:retry'));
  program.command('jobs:clear').description('delete every inactive (completed, failed, cancelled) job').action(act('jobs:clear'));
  program
    .command('jobs:export')
    .argument('[file]', 'where to write the CSV (default: stdout)')
    .addOption(new Option('--tab <tab>', 'which jobs').choices(['all', 'active', 'failed']).default('all'))
    .description('export the job history as CSV (AtoM columns first)')
    .action(act('jobs:export'));

  program.command('queue:pause').description('stop starting jobs (running jobs finish)').action(act('queue:pause'));
  program.command('queue:resume').description('start jobs again').action(act('queue:resume'));
  program.command('queue:clear').description('cancel every queued job').action(act('queue:clear'));
  program.command('queue:status').option('--json', 'as JSON').description('paused or not, queued and running counts').action(act('queue:status'));
  program
    .command('queue:pause-on-failure')
    .argument('<on|off>', 'whether a failed job pauses processing')
    .description('pause processing automatically when a job fails')
    .action(act('queue:pause-on-failure'));
  program.command('workers').option('--json', 'as JSON').description('list workers: host, pid, abilities, running jobs, heartbeat').action(act('workers'));
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

