#!/usr/bin/env node
/** The `docket` command's entry point; the program is built in program.ts, its commands in commands/. */
import { createWriteStream } from 'node:fs';
import type { CliIO } from './io.js';
import { main } from './program.js';

const SERVER_COMMANDS = ['start', 'web', 'worker'];

const io: CliIO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  exitCode: 0,
  stdin: process.stdin,
  openWrite: (path) => createWriteStream(path),
};

// The build is a bundle (scripts/bundle-cli.mjs): a long-running process (web app, worker)
// maps its stack traces back to the TypeScript source, the maps read as its modules load.
// A short command does not pay for reading them (its errors are one line); with
// NODE_OPTIONS=--enable-source-maps every command does.
if (SERVER_COMMANDS.includes(process.argv[2] ?? '')) process.setSourceMapsEnabled(true);

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
    // Whatever handle is still open (a pool, a socket), a finished command exits.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`docket: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
