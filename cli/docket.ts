#!/usr/bin/env node
/** The `docket` command's entry point; the program is built in program.ts, its commands in commands/. */
import { createWriteStream } from 'node:fs';
import type { CliIO } from './io.js';
import { main } from './program.js';

const io: CliIO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  exitCode: 0,
  stdin: process.stdin,
  openWrite: (path) => createWriteStream(path),
};

// The build is a bundle (scripts/bundle-cli.mjs) with source maps beside it. They are not
// read unless NODE_OPTIONS=--enable-source-maps: mapping stack traces back to the
// TypeScript source held some 54 MB more in a web process (94 -> 148 MB resident after
// its first requests), which pushed the export's peak and a worker's memory growth past
// their benchmark limits (scenarios 5 and 7).

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
