// Setup that `npm start`, `npm test` and `npm run bench` run first, so that a fresh
// clone needs nothing else: install dependencies when missing or stale, then build.
// It has no dependencies of its own, since it may run before any are installed.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const mtime = (p) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : 0);

const marker = 'node_modules/.package-lock.json';
if (!existsSync(join(root, 'node_modules')) || mtime('package-lock.json') > mtime(marker)) {
  // `npm install`, not `npm ci`: this npm omits other platforms' optional packages
  // (msgpackr-extract's, via the benchmark's BullMQ) from the lock file and then calls the
  // lock out of sync. `npm install` follows the lock all the same.
  console.error('docket setup: installing dependencies (npm install)');
  run('npm install --no-audit --no-fund');
}
console.error('docket setup: building (tsc, then the docket command bundled by esbuild)');
run('npx tsc -p tsconfig.build.json');
run('node scripts/bundle-cli.mjs');
