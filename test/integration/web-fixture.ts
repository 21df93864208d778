/**
 * The web suites' fixture: the app listening on port 0 over a fresh test database,
 * three users (archivists alice and bob, an administrator), and a small HTTP client
 * that keeps cookies and reads CSRF tokens from pages, the way a browser would.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import type { Job, User } from '../../app/types.js';
import { createUser } from '../../app/store/users.js';
import { createWebApp, listen, type WebOptions } from '../../app/web/server.js';
import { getTask, registerTask } from '../../app/tasks/index.js';
import { makeTestEnv, type Backend, type TestEnv } from '../helpers.js';

/** A task archivists may run, for API and form tests (only ever queued here, never run). */
export const ECHO_TASK = 'web-test-echo';
if (!getTask(ECHO_TASK)) {
  registerTask({
    name: ECHO_TASK,
    title: 'Echo (web tests)',
    description: 'Queued by the web tests; never run.',
    params: { text: { type: 'string', description: 'what to echo', maxLength: 200 } },
  });
}

export const PASSWORDS = { admin: 'admin-pass-1', alice: 'alice-pass-1', bob: 'bob-pass-1' };

export interface Web {
  env: TestEnv;
  ctx: Context;
  base: string;
  server: Server;
  users: { admin: User; alice: User; bob: User };
  close(): Promise<void>;
}

export async function startWeb(backend: Backend, opts: WebOptions = {}): Promise<Web> {
  const env = await makeTestEnv(backend);
  const ctx = await env.context();
  const users = {
    admin: await createUser(ctx.db, 'admin', PASSWORDS.admin, 'admin'),
    alice: await createUser(ctx.db, 'alice', PASSWORDS.alice, 'archivist'),
    bob: await createUser(ctx.db, 'bob', PASSWORDS.bob, 'archivist'),
  };
  const { server, base } = await serve(ctx, opts);
  return {
    env,
    ctx,
    base,
    server,
    users,
    async close() {
      await closeServer(server);
      await env.cleanup();
    },
  };
}

/** Another web process on the same database (sessions must carry over). */
export async function serve(ctx: Context, opts: WebOptions = {}): Promise<{ server: Server; base: string }> {
  const app = await createWebApp(ctx, opts);
  const server = await listen(app, 0, '127.0.0.1');
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { server, base: `http://127.0.0.1:${port}` };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
  json<T = Record<string, unknown>>(): T;
}

/** A browser-like client: keeps cookies, follows no redirects (tests look at them). */
export class Client {
  cookies = new Map<string, string>();
  /** The CSRF token of the last page that had a form. */
  csrf = '';

  constructor(
    public base: string,
    public token: string | null = null,
  ) {}

  async request(
    method: string,
    path: string,
    o: { form?: Record<string, string | string[]>; json?: unknown; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined = o.body;
    if (o.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(o.form)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
      body = p.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1];
    return {
      status: res.status,
      headers: res.headers,
      text,
      location: res.headers.get('location'),
      json: <T>() => JSON.parse(text) as T,
    };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.request('GET', path, { headers });
  }

  /** A form post carrying the CSRF token of the last page (unless the test sets `_csrf`). */
  post(path: string, form: Record<string, string | string[]> = {}): Promise<Reply> {
    return this.request('POST', path, { form: { _csrf: this.csrf, ...form } });
  }

  async login(username: string, password: string): Promise<Reply> {
    await this.get('/login');
    return this.post('/login', { username, password });
  }
}

export async function loggedIn(base: string, who: keyof typeof PASSWORDS): Promise<Client> {
  const c = new Client(base);
  const r = await c.login(who, PASSWORDS[who]);
  if (r.status !== 303) throw new Error(`login of ${who} failed: ${r.status} ${r.text.slice(0, 200)}`);
  await c.get('/jobs'); // a page with forms: sets c.csrf for the session
  return c;
}

/**
 * A page's HTML with its numeric character references read back (the templates write
 * their non-ASCII text as `&#x2026;` and the like), to look for a text as it is shown.
 */
export function shown(html: string): string {
  return html.replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
}

/** The job ids in a jobs page, in table order. */
export function rowIds(html: string): number[] {
  return [...html.matchAll(/<tr data-job-id="(\d+)"/g)].map((m) => Number(m[1]));
}

// ---- jobs in every state --------------------------------------------------------

const WORKER = 'web-test-worker';

/** A queued job owned by `user` (null: the command line), like `docket run --user`. */
export async function queued(ctx: Context, user: User | null, task = 'sleep', params: Record<string, unknown> = {}): Promise<Job> {
  const { job } = await ctx.service.enqueue({ task, params, user, origin: 'cli' });
  return job;
}

export async function running(ctx: Context, user: User | null, task = 'sleep'): Promise<Job> {
  const j = await queued(ctx, user, task);
  const [claimed] = await ctx.service.claimMany([j.id], WORKER);
  if (!claimed) throw new Error(`cannot claim job ${j.id}`);
  return claimed;
}

export async function completed(
  ctx: Context,
  user: User | null,
  result: { summary?: string; file?: { stored: string; downloadName: string; content: string }; task?: string } = {},
): Promise<Job> {
  const j = await running(ctx, user, result.task);
  let file: { stored: string; downloadName: string } | undefined;
  if (result.file) {
    mkdirSync(ctx.config.resultsDir, { recursive: true });
    writeFileSync(join(ctx.config.resultsDir, result.file.stored), result.file.content);
    file = { stored: result.file.stored, downloadName: result.file.downloadName };
  }
  const done = await ctx.service.completeMany([{ job: j, result: { summary: result.summary ?? 'done', file } }], WORKER);
  if (!done.has(j.id)) throw new Error(`cannot complete job ${j.id}`);
  return ctx.service.get(j.id);
}

export async function failed(ctx: Context, user: User | null, message = 'it broke', task = 'sleep'): Promise<Job> {
  const j = await running(ctx, user, task);
  await ctx.service.fail(j, WORKER, { message, unrecoverable: true });
  return ctx.service.get(j.id);
}

export async function cancelled(ctx: Context, user: User | null): Promise<Job> {
  const j = await queued(ctx, user);
  await ctx.service.cancel(j.id, user?.username ?? 'Command line');
  return ctx.service.get(j.id);
}
