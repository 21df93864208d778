/**
 * A `docket web` process for scenarios 4 and 5, and logging in to it as a browser
 * does: GET /login for the session cookie and the CSRF token, POST /login with both.
 */
import { Agent, get as httpGet } from 'node:http';
import { startDocket, type Proc } from './proc.js';

export interface Web {
  proc: Proc;
  base: string;
  /** Server-side time of each request, from the app's own request log (`http` level). */
  serverTimes: Array<{ path: string; ms: number; status: number }>;
  stop(): Promise<void>;
}

const REQUEST_LINE = /(GET|POST) (\S+) (\d{3}) ([\d.]+) ms/;

export async function startWeb(env: NodeJS.ProcessEnv, opts: { logRequests: boolean }): Promise<Web> {
  const serverTimes: Web['serverTimes'] = [];
  const proc = await startDocket(
    ['web'],
    // PORT 0: the system picks a free port, which the command prints.
    { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: opts.logRequests ? 'http' : 'warn' },
    /listening on http:\/\/127\.0\.0\.1:\d+/,
    {
      onLine: (line) => {
        const m = REQUEST_LINE.exec(line);
        if (m) serverTimes.push({ path: m[2], status: Number(m[3]), ms: Number(m[4]) });
      },
    },
  );
  const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.log())![1];
  return { proc, base: `http://127.0.0.1:${port}`, serverTimes, stop: () => proc.stop() };
}

function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/** Logs in through the form; resolves with the session cookie header. */
export async function login(base: string, username: string, password: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const html = await page.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`GET /login gave no CSRF token (status ${page.status})`);
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) },
    body: new URLSearchParams({ username, password, _csrf: token, next: '/jobs' }).toString(),
  });
  if (res.status !== 303) throw new Error(`POST /login as ${username} answered ${res.status}, not a redirect`);
  const cookie = cookiesOf(res);
  if (!cookie) throw new Error(`POST /login as ${username} set no session cookie`);
  return cookie;
}

/**
 * An open loop: `rate` requests a second, each sent at its own time (one every
 * 1000/rate ms) whether or not the earlier ones were answered, over at most
 * `connections` kept-alive connections. Autocannon's `overallRate` is not one: each of
 * its clients sends its share of the second's requests back to back from the start of
 * each second, so that all the clients' first requests arrive together and the second
 * begins as a closed loop of `connections` clients; its server times are mostly that
 * burst's queue.
 */
export async function openLoop(
  url: string,
  opts: { rate: number; seconds: number; connections: number; headers?: Record<string, string> },
): Promise<{ requests: number; non2xx: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const total = Math.round(opts.rate * opts.seconds);
  const out = { requests: 0, non2xx: 0, errors: 0 };
  const start = performance.now();
  const sent: Array<Promise<void>> = [];
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / opts.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sent.push(
        new Promise<void>((done) => {
          const req = httpGet(url, { agent, headers: opts.headers }, (res) => {
            res.resume();
            res.on('end', () => {
              out.requests++;
              if ((res.statusCode ?? 0) >= 300) out.non2xx++;
              done();
            });
          });
          req.on('error', () => {
            out.errors++;
            done();
          });
        }),
      );
    }
    await Promise.all(sent);
  } finally {
    agent.destroy();
  }
  return out;
}
