import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project folder, found by walking up to package.json. The same code runs from
 * `app/` (under tsx, in tests) and from `dist/app/` (after the build), so a fixed
 * number of `..` would be wrong in one of the two.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'views'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Docket project folder');
    dir = up;
  }
}

export const ROOT = findRoot();
export const VIEWS_DIR = join(ROOT, 'views');
export const PUBLIC_DIR = join(ROOT, 'public');
export function fromRoot(p: string): string {
  return resolve(ROOT, p);
}

/** True when this module runs as TypeScript source (tests, tsx), false after the build. */
export const RUNNING_FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');
