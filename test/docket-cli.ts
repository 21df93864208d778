/**
 * How the tests that spawn the `docket` command start it: the build as shipped (the
 * esbuild bundle dist/cli/docket.js, which `npm test` builds first), or the TypeScript
 * source under tsx when the build is missing, older than any source file (a single test
 * file run after an edit: a stale build must not mislead), or DOCKET_TEST_CLI=source.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'cli', 'docket.js');

function newestSource(): number {
  let newest = 0;
  for (const dir of ['app', 'cli', 'workers', 'db']) {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
      if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  }
  return newest;
}

function choose(): { args: string[]; what: string } {
  const source = { args: ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts')], what: 'the source (cli/docket.ts under tsx)' };
  if (process.env.DOCKET_TEST_CLI === 'source') return source;
  if (!existsSync(BUNDLE)) return { ...source, what: `${source.what}: no build in dist/` };
  if (statSync(BUNDLE).mtimeMs < newestSource()) return { ...source, what: `${source.what}: dist/ is older than the source (npm run build)` };
  return { args: [BUNDLE], what: 'the build (dist/cli/docket.js, the bundle)' };
}

/** Node's arguments that start `docket`, and which one it is, for the suite's title. */
export const DOCKET_CLI = choose();
