/**
 * Scenario 7: bad input, through the HTTP API (a `docket web` process) and the command
 * line: each gets a clear 4xx (a JSON error with a message) or a CLI error (exit 2 for
 * usage, 1 for failure, one line on stderr), and the system keeps running: after every
 * bad request a good job is submitted, and all of them complete.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../../../app/context.js';
import { TEXT_LIMITS } from '../../../app/store/limits.js';
import { createToken } from '../../../app/store/tokens.js';
import { createUser } from '../../../app/store/users.js';
import { count, persist, ROOT, rowOf, settle, sleep, type Check } from '../harness.js';
import { MYSQL_AMQP, SQLITE_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { startWeb } from '../web.js';

const GIB = 1024 * 1024 * 1024;

interface Answer {
  status: number;
  message: string;
  /** The job id of a 202 answer. */
  jobId: number | null;
  /** Bytes of the body the client had sent when the answer came. */
  sent: number;
}

/**
 * One HTTP request. A body given as a size is streamed in 64 KB pieces of one reused
 * buffer (never allocated whole), and the client stops sending once the answer comes.
 */
function call(
  port: number,
  method: string,
  path: string,
  opts: { token?: string; json?: string; stream?: { bytes: number; declared: boolean } } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.json !== undefined || opts.stream) headers['content-type'] = 'application/json';
    if (opts.json !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.json));
    if (opts.stream?.declared) headers['content-length'] = String(opts.stream.bytes);
    let sent = 0;
    let answered = false;
    const req = request({ host: '127.0.0.1', port, method, path, headers, timeout: 60_000 }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d.length + text.length < 100_000 ? d : ''));
      res.on('end', () => {
        let message: string;
        let jobId: number | null = null;
        try {
          const body = JSON.parse(text) as { error?: { message?: string }; job?: { id?: number } };
          message = String(body.error?.message ?? '');
          jobId = typeof body.job?.id === 'number' ? body.job.id : null;
        } catch {
          message = text.slice(0, 200);
        }
        req.destroy();
        resolve({ status: res.statusCode ?? 0, message, jobId, sent });
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (e) => (answered ? undefined : reject(e)));
    if (opts.json !== undefined) {
      req.end(opts.json);
    } else if (opts.stream) {
      // Whitespace before a JSON value is valid JSON: only the size is wrong.
      const piece = Buffer.alloc(64 * 1024, 0x20);
      const total = opts.stream.bytes;
      const pump = (): void => {
        while (!answered && sent < total) {
          const n = Math.min(piece.length, total - sent);
          sent += n;
          if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end();
      };
      pump();
    } else {
      req.end();
    }
  });
}

/** Resident memory of a process, in MB (from /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** `docket ARGS` as an operator types it: exit code and stderr lines. */
function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stderr: string[] }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts'), ...args], { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, stderr: err.split('\n').filter(Boolean) }));
  });
}

export const s7: Scenario = {
  n: 7,
  title: 'bad input through the API and the command line',
  backends: (full) => (full ? [SQLITE_DB, MYSQL_AMQP] : [SQLITE_DB]),
  async run(backend, o) {
    let web: ChildProcess | null = null;
    return staged(
      backend,
      o,
      {
        workers: { count: 1, concurrency: 2 },
        after: async () => {
          web?.kill('SIGTERM');
        },
      },
      async ({ env, ctx, fleet, started }) => {
        const checks: Check[] = [];
        const good: number[] = [];
        const admin = await createUser(ctx.db, 'fault-admin', 'fault-suite-password', 'admin');
        const archivist = await createUser(ctx.db, 'fault-archivist', 'fault-suite-password', 'archivist');
        const token = await createToken(ctx.db, admin.id, 'fault suite');
        const archivistToken = await createToken(ctx.db, archivist.id, 'fault suite');
        const w = await startWeb(env.env);
        web = w.proc;
        const port = w.port;
        const rssBefore = rssMb(w.proc.pid as number);

        const goodJob = async (): Promise<void> => {
          const a = await call(port, 'POST', '/api/jobs', { token, json: JSON.stringify({ task: 'noop' }) });
          if (a.status !== 202 || a.jobId === null) throw new Error(`a good job was refused after bad input: ${a.status} ${a.message}`);
          good.push(a.jobId);
        };
        const http = async (what: string, expect: number | number[], a: Promise<Answer>): Promise<Answer> => {
          const r = await a.catch((e: Error) => ({ status: 0, message: e.message, jobId: null, sent: 0 }));
          const want = Array.isArray(expect) ? expect : [expect];
          checks.push({ what: `API ${what}: ${want.join(' or ')}`, ok: want.includes(r.status) && r.message.length > 0, detail: `${r.status} "${r.message.slice(0, 90)}"` });
          await goodJob();
          return r;
        };
        const json = (body: unknown): string => JSON.stringify(body);

        await http('unknown task', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'no-such-task' }) }));
        await http('parameter of the wrong type', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'sleep', params: { seconds: 'soon' } }) }));
        await http('params not an object', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'sleep', params: [1, 2] }) }));
        await http('unknown parameter', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'noop', params: { bogus: 1 } }) }));
        await http('oversized parameters (70 KB, under the body limit)', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'exclusive', params: { key: 'x'.repeat(70_000) } }) }));
        await http('oversized body (200 KB)', 413, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'noop', params: { pad: 'x'.repeat(200_000) } }) }));
        await http('malformed JSON', 400, call(port, 'POST', '/api/jobs', { token, json: '{"task": "noop", "params": {' }));
        await http('an administrators-only task for an archivist', 403, call(port, 'POST', '/api/jobs', { token: archivistToken, json: json({ task: 'noop' }) }));
        await http('no token', 401, call(port, 'GET', '/api/jobs'));
        await http('no token on a POST', 401, call(port, 'POST', '/api/jobs', { json: json({ task: 'noop' }) }));
        await http('a wrong token', 401, call(port, 'POST', '/api/jobs', { token: 'dkt_wrong', json: json({ task: 'noop' }) }));
        await http('a job id that does not exist', 404, call(port, 'GET', '/api/jobs/999999999', { token }));
        await http('cancel a job id that does not exist', 404, call(port, 'POST', '/api/jobs/999999999/cancel', { token }));
        await http('a job id that is not a number', 404, call(port, 'GET', '/api/jobs/abc', { token }));
        const declared = await call(port, 'POST', '/api/jobs', { token, stream: { bytes: GIB, declared: true } }).catch((e: Error) => ({ status: 0, message: e.message, jobId: null, sent: 0 }));
        checks.push({ what: 'API 1 GB upload (declared length): 413', ok: declared.status === 413, detail: `${declared.status} after ${(declared.sent / 1048576).toFixed(1)} MB sent` });
        await goodJob();
        const chunked = await call(port, 'POST', '/api/jobs', { token, stream: { bytes: GIB, declared: false } }).catch((e: Error) => ({ status: 0, message: e.message, jobId: null, sent: 0 }));
        checks.push({ what: 'API 1 GB upload (chunked): 413', ok: chunked.status === 413, detail: `${chunked.status} after ${(chunked.sent / 1048576).toFixed(1)} MB sent` });
        await goodJob();
        const rssAfter = rssMb(w.proc.pid as number);
        checks.push({ what: 'the web process stayed small', ok: rssAfter < rssBefore + 100, detail: `${rssBefore} MB before, ${rssAfter} MB after` });

        const env2 = env.env;
        const cliCase = async (what: string, args: string[], expect: number): Promise<void> => {
          const r = await cli(env2, args);
          checks.push({ what: `CLI ${what}: exit ${expect}, one stderr line`, ok: r.code === expect && r.stderr.length === 1, detail: `exit ${r.code}: ${r.stderr.join(' | ').slice(0, 90)}` });
        };
        await cliCase('unknown task', ['run', 'no-such-task'], 2);
        await cliCase('parameter of the wrong type', ['run', 'sleep', '--seconds', 'soon'], 2);
        await cliCase('unknown parameter', ['run', 'noop', '--bogus', '1'], 2);
        await cliCase('oversized parameter', ['run', 'exclusive', '--key', 'x'.repeat(70_000)], 2);
        await cliCase('a job id that is not a number', ['jobs:cancel', 'abc'], 2);
        await cliCase('a job id that does not exist', ['jobs:show', '999999999'], 1);
        await cliCase('retry a job id that does not exist', ['jobs:retry', '999999999'], 1);
        await goodJob();

        // Hostile values in a query: each a clear 4xx, or the same page as for no value.
        await http('priority named like an inherited property', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'noop', priority: 'toString' }) }));
        await http('a parameter named like an inherited property', 400, call(port, 'POST', '/api/jobs', { token, json: json({ task: 'noop', params: { constructor: 1 } }) }));
        await http('a status that is no status', 400, call(port, 'GET', '/api/jobs?status=broken', { token }));
        await http('an output cursor that is not a chunk id', 400, call(port, 'GET', `/api/jobs/${good[0]}/output?after=-1`, { token }));
        await http('an events page that is too long', 400, call(port, 'GET', `/api/jobs/${good[0]}/events?limit=100000`, { token }));
        const fromStart = await call(port, 'GET', `/api/jobs/${good[0]}/output?after=0`, { token });
        checks.push({ what: 'API output from the start (?after=0): 200', ok: fromStart.status === 200, detail: String(fromStart.status) });
        // `docket run noop --user fault-archivist`, cancelled: hers, but not hers to start again.
        const { job: adminOnly } = await ctx.service.enqueue({ task: 'sleep', params: { seconds: 30 }, user: archivist, origin: 'cli' });
        await ctx.service.cancel(adminOnly.id, 'fault suite');
        for (const until = Date.now() + 30_000; (await ctx.service.get(adminOnly.id)).status !== 'cancelled' && Date.now() < until; ) await sleep(100);
        await http('an archivist retrying her job of an administrators-only task', 403, call(port, 'POST', `/api/jobs/${adminOnly.id}/retry`, { token: archivistToken }));

        // A CSV header of 120,000 unknown columns, imported with --strict (without it they are
        // ignored, as AtoM does): the import fails at once with a short reason (the first few
        // named, the rest counted), recorded as Failed, never "Running" until its worker is
        // taken for lost.
        const wide = join(tmpdir(), `docket-wide-header-${process.pid}.csv`);
        writeFileSync(wide, `${Array.from({ length: 120_000 }, (_, i) => `unknownColumn${i}`).join(',')}\nx\n`);
        const { job: wideJob } = await ctx.service.enqueue({ task: 'csv-import', params: { file: wide, strict: true }, user: null, origin: 'cli' });
        let wideNow = await ctx.service.get(wideJob.id);
        for (const until = Date.now() + 60_000; wideNow.status === 'queued' || wideNow.status === 'running'; ) {
          if (Date.now() > until) break;
          await sleep(200);
          wideNow = await ctx.service.get(wideJob.id);
        }
        const reason = wideNow.error ?? '';
        checks.push({
          what: 'a CSV header of 120,000 unknown columns: Failed with a short reason naming the first few',
          ok: wideNow.status === 'failed' && reason.length <= TEXT_LIMITS.error && /and 119,990 more/.test(reason) && !reason.includes('worker lost'),
          detail: `${wideNow.status}, ${reason.length} characters: ${reason.slice(0, 60)}`,
        });

        const health = await call(port, 'GET', '/healthz');
        checks.push({ what: 'the web app still answers /healthz', ok: health.status === 200, detail: String(health.status) });
        const allFinal = await settle(ctx.db, Date.now() + 60_000);
        await sleep(100);
        const c = await persist(() => count(ctx as Context, good, fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
        const done = good.filter((id) => c.jobs.get(id)?.status === 'completed').length;
        checks.push({ what: `good jobs between the bad ones completed: ${done} of ${good.length}`, ok: done === good.length });
        checks.push({ what: 'every job final', ok: allFinal });
        checks.push({ what: 'the worker process survived', ok: fleet!.ready.length === 1 });
        return rowOf(backend.name, c, started, checks);
      },
    );
  },
};
