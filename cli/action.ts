/**
 * Runs one command's handler: opens the context it needs, maps errors to exit codes
 * (a usage error or a 400 is 2, anything else 1) with one line on stderr, and closes
 * the context whatever happened.
 */
import type { Command } from 'commander';
import { createContext, type Context, type ContextOptions } from '../app/context.js';
import { HttpError } from '../app/errors.js';
import type { CliIO } from './io.js';
import { UsageError } from './usage.js';

/** A command's work: its positional arguments and its typed options; returns the exit code. */
export type Handler<O> = (ctx: Context, args: string[], opts: O, io: CliIO) => Promise<number>;

export interface ActionOptions {
  /** How the context opens (the worker needs its broker at once; `migrate` migrates itself). */
  context?: Pick<ContextOptions, 'broker' | 'migrate'>;
  /** Checks the arguments before anything is opened: a usage error needs no database. */
  check?: (args: string[], opts: never) => void;
}

export async function runHandler<O>(name: string, handler: Handler<O>, args: string[], opts: O, io: CliIO, options: ActionOptions = {}): Promise<number> {
  let ctx: Context | null = null;
  try {
    options.check?.(args, opts as never);
    ctx = await createContext({ broker: 'background', ...options.context });
    return await handler(ctx, args, opts, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`docket ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof HttpError) {
      io.err(`docket ${name}: ${err.message}\n`);
      return err.status === 400 ? 2 : 1;
    }
    io.err(`docket ${name}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

/** The commander action that runs `handler` with the command's arguments and options. */
export function action<O extends object>(io: CliIO, handler: Handler<O>, options: ActionOptions = {}) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    io.exitCode = await runHandler(cmd.name(), handler, cmd.args, cmd.opts<O>(), io, options);
  };
}
