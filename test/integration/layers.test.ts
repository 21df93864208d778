/**
 * Layers only point down: the web app uses the engine and the task catalogue, never the
 * workers. So a web process loads no task handler, nor what handlers need (csv-parse,
 * pdfkit). Checked two ways: the source (no file under app/ imports from workers/), and a
 * fresh process that imports the web app and reports every module it loaded.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DOCKET_CLI } from '../docket-cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/**
 * Resolve hooks (Node's `module.register`) see every module an ES import loads, through
 * tsx's own hooks (which run after these), and report its final URL over a port. Modules
 * loaded by `require` inside CommonJS packages do not all pass through the hooks on
 * Node 20, so the CommonJS cache is read as well.
 */
const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;

/**
 * Imports `modules` (paths from the project root, or package names) in a fresh process
 * and returns the URLs of every module it loaded.
 */
async function loadedBy(modules: string[]): Promise<string[]> {
  const targets = modules.map((m) => (m.includes('/') ? pathToFileURL(join(ROOT, m)).href : m));
  const script = `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = [];
// A marker imported last: the port delivers in order, so once it arrives, all did.
const END = 'data:text/javascript,export%20default%200//end-of-imports';
const ended = new Promise((done) => port1.on('message', (url) => (url === END ? done() : seen.push(url))));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { port: port2 }, transferList: [port2] });
for (const m of ${JSON.stringify(targets)}) await import(m);
await import(END);
await ended;
const cjs = Object.keys(createRequire(import.meta.url).cache).map((p) => 'file://' + p);
process.stdout.write(JSON.stringify([...seen, ...cjs]));
process.exit(0);
`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as string[];
}

const WORKERS = pathToFileURL(join(ROOT, 'workers')).href + '/';
const handlerSide = (urls: string[]): string[] =>
  urls.filter((u) => u.startsWith(WORKERS) || /\/node_modules\/(csv-parse|pdfkit)\//.test(u));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('layers', function () {
  this.timeout(60_000);

  /**
   * The layers, from the top: the command line and the web app use the engine; workers use
   * the engine and the task handlers; the engine (job service, policy, sweep, transports,
   * task catalogue, file store) uses the store; the store uses only the database, the
   * dialect and the shared types. A rule names a folder and the folders it must not import.
   */
  const RULES: Array<{ from: string; except?: string; mayNot: string[] }> = [
    { from: 'app', except: 'app/web', mayNot: ['workers', 'cli', 'app/web'] },
    { from: 'app/web', mayNot: ['workers', 'cli'] },
    { from: 'app/store', mayNot: ['app/job-service.ts', 'app/transports', 'app/tasks', 'app/files', 'app/maintenance.ts', 'app/policy.ts'] },
    { from: 'workers', mayNot: ['app/web', 'cli'] },
  ];

  for (const rule of RULES) {
    it(`has no file under ${rule.from}/${rule.except ? ` (but ${rule.except}/)` : ''} that imports from ${rule.mayNot.join(', ')}`, () => {
      const files = sources(join(ROOT, rule.from)).filter((f) => !rule.except || !relative(ROOT, f).startsWith(rule.except + '/'));
      expect(files.length).to.be.greaterThan(0);
      const upward = files.flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)]
          .map((m) => m[1])
          .filter((spec) => {
            if (!spec.startsWith('.')) return false;
            const target = relative(ROOT, join(file, '..', spec)).replace(/\.js$/, '.ts');
            return rule.mayNot.some((no) => target === no || target.startsWith(no + '/'));
          })
          .map((spec) => `${relative(ROOT, file)} imports ${spec}`),
      );
      expect(upward).to.deep.equal([]);
    });
  }

  it('loads no worker module, csv-parse or pdfkit in a process that builds the web app', async () => {
    const urls = await loadedBy(['app/web/server.ts', 'app/context.ts', 'app/tasks/index.ts']);
    // The web app itself was seen: the list is real, not empty for want of hooks.
    expect(urls).to.include(pathToFileURL(join(ROOT, 'app/web/server.ts')).href);
    expect(urls.some((u) => u.includes('/node_modules/express/'))).to.equal(true);
    expect(handlerSide(urls)).to.deep.equal([]);
  });

  it('loads, for `docket run`, its own command group and neither winston nor amqplib until they are used', async () => {
    const urls = await loadedBy(['cli/program.ts', 'cli/commands/run.ts', 'app/context.ts']);
    const commands = urls.filter((u) => u.includes('/cli/commands/')).map((u) => u.slice(u.lastIndexOf('/') + 1));
    expect(commands).to.deep.equal(['run.ts']);
    expect(urls.some((u) => u.includes('/node_modules/knex/'))).to.equal(true);
    expect(urls.filter((u) => /\/node_modules\/(winston|amqplib)\//.test(u))).to.deep.equal([]);
  });

  it('does see them where they are loaded: the task handlers, and pdfkit', async () => {
    // The check above must be able to fail: the same probe finds what a worker's child loads.
    const found = handlerSide(await loadedBy(['workers/tasks/index.ts', 'pdfkit']));
    expect(found).to.include(pathToFileURL(join(ROOT, 'workers/tasks/archive/csv-import.ts')).href);
    expect(found.some((u) => u.includes('/node_modules/csv-parse/'))).to.equal(true);
    expect(found.some((u) => u.includes('/node_modules/pdfkit/'))).to.equal(true);
  });

  /**
   * The build is one esbuild bundle split in chunks (scripts/bundle-cli.mjs), where the
   * hooks above see files, not modules. What a command group can load is read from the
   * chunks instead: the files its chunk imports, statically, and so on, and the modules in
   * them, which esbuild names in a comment line each (`// app/web/server.ts`); with
   * `dynamic`, the files they import on demand as well.
   */
  function bundledModules(group: string, dynamic = false): string {
    const entry = join(ROOT, 'dist', 'cli', 'docket.js');
    // The entry imports the program's chunk (a short command's; the servers load tsc's
    // build), and the program imports each group's chunk on demand.
    const program = /import\("\.\/chunks\/(program-[A-Z0-9]+\.js)"\)/.exec(readFileSync(entry, 'utf8'))?.[1];
    expect(program, `the program's chunk in dist/cli/docket.js`).to.be.a('string');
    const programFile = join(ROOT, 'dist', 'cli', 'chunks', program!);
    const chunk = new RegExp(`import\\("\\./(${group}-[A-Z0-9]+\\.js)"\\)`).exec(readFileSync(programFile, 'utf8'))?.[1];
    expect(chunk, `the ${group} group's chunk in ${program}`).to.be.a('string');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^import\s[^;]*?["'](\.\.?\/[^"']+\.js)["'];?$/gm)) visit(join(dirname(file), m[1]));
      if (dynamic) for (const m of text.matchAll(/import\("(\.\.?\/[^"]+\.js)"\)/g)) visit(join(dirname(file), m[1]));
    };
    visit(entry);
    visit(programFile);
    visit(join(ROOT, 'dist', 'cli', 'chunks', chunk!));
    return [...seen].map((f) => readFileSync(f, 'utf8')).join('\n');
  }

  it('keeps, in the built bundle, `docket run` apart from the web app, the task handlers, winston and amqplib (loaded on use)', function () {
    if (!DOCKET_CLI.args[0].endsWith('docket.js')) this.skip(); // no build, or an older one
    const run = bundledModules('run');
    expect(run).to.match(/^\/\/ cli\/commands\/run\.ts$/m);
    expect(run).to.match(/node_modules\/knex\//);
    for (const absent of [/^\/\/ app\/web\//m, /^\/\/ workers\//m, /node_modules\/(express|ejs|winston|amqplib|csv-parse|pdfkit)\//, /^\/\/ cli\/commands\/(?!run)/m]) {
      expect(run).not.to.match(absent);
    }
    // The probe can fail: the server group's chunks hold the web app and express.
    const server = bundledModules('server', true);
    expect(server).to.match(/^\/\/ app\/web\/server\.ts$/m);
    expect(server).to.match(/node_modules\/express\//);
  });
});
