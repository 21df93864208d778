/**
 * Docket across hosts that share nothing but MariaDB and RabbitMQ: a web host and two
 * worker hosts, each a network namespace with its own address, hostname and folders
 * (test/hosts). The test process is the client: it talks HTTP to the web host only.
 *
 * An integration test (not e2e): what it checks is the engine's recovery across real
 * processes and a real network fault, on the real services; no browser takes part.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../../app/context.js';
import { createToken } from '../../app/store/tokens.js';
import { createUser } from '../../app/store/users.js';
import { AMQP_URL, MYSQL_URL, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';
import { hostEnv, loopbackPort, requireTestHosts, startDocket } from '../hosts/docket.js';
import { TestNetwork } from '../hosts/network.js';
import type { HostProcess } from '../hosts/process.js';
import { alive } from '../hosts/system.js';

interface ApiJob {
  id: number;
  status: string;
  attempt: number;
  resultSummary: string | null;
  progress: { current: number | null; total: number | null } | null;
}
interface ApiEvent {
  at: string;
  type: string;
  attempt: number;
  actor: string;
  message: string | null;
}
interface ApiChunk {
  id: number;
  attempt: number;
  stream: string;
  at: string;
  text: string;
}

const WORKERS = ['w1', 'w2'] as const;
type WorkerHost = (typeof WORKERS)[number];
const WEB_PORT = 3000;

describe('across hosts: a web host and two worker hosts (MariaDB + RabbitMQ)', function () {
  this.timeout(180_000);
  let net: TestNetwork | null = null;
  let env: TestEnv | null = null;
  let ctx: Context;
  let token: string;
  let base: string;
  const workers = {} as Record<WorkerHost, { proc: HostProcess; id: string }>;

  async function api<T>(method: string, path: string, json?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) },
      body: json ? JSON.stringify(json) : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  const getJob = async (id: number): Promise<ApiJob> => (await api<{ job: ApiJob }>('GET', `/api/jobs/${id}`)).body.job;
  const events = async (id: number): Promise<ApiEvent[]> =>
    (await api<{ events: ApiEvent[] }>('GET', `/api/jobs/${id}/events`)).body.events;
  async function output(id: number): Promise<ApiChunk[]> {
    const all: ApiChunk[] = [];
    for (let after = 0; ; ) {
      const r = await api<{ chunks: ApiChunk[]; next: number; more: boolean }>('GET', `/api/jobs/${id}/output${after ? `?after=${after}` : ''}`);
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      all.push(...r.body.chunks);
      if (!r.body.more) return all;
      after = r.body.next;
    }
  }
  async function submit(task: string, params: Record<string, unknown>): Promise<number> {
    const r = await api<{ job: ApiJob }>('POST', '/api/jobs', { task, params });
    expect(r.status, JSON.stringify(r.body)).to.equal(202);
    return r.body.job.id;
  }
  const hostOfWorker = (workerId: string): WorkerHost | undefined => WORKERS.find((w) => workers[w].id === workerId);
  const jobLog = (host: string, id: number): string => join(net!.host(host).dir, 'logs', 'jobs', `${id}.log`);
  const printed = (text: string): number[] => [...text.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));

  before(async function () {
    requireTestHosts(this);
    await requireService(this, 'mysql');
    await requireService(this, 'amqp');
    env = await makeTestEnv({ db: 'mysql', transport: 'amqp' }, { LOG_LEVEL: 'info' });
    // Migrated here, in the root namespace; the hosts only use the database.
    ctx = await env.context();
    const admin = await createUser(ctx.db, 'ops', 'ops-password-1', 'admin');
    token = await createToken(ctx.db, admin.id, 'test hosts');
    net = await TestNetwork.create(['web', ...WORKERS], {
      forward: [loopbackPort(MYSQL_URL!, 3306), loopbackPort(AMQP_URL!, 5672)],
    });
    const webHost = net.host('web');
    const web = startDocket(net, 'web', ['web'], hostEnv(net, 'web', env.env, { HOST: webHost.address, PORT: String(WEB_PORT) }));
    base = `http://${webHost.address}:${WEB_PORT}`;
    const starting = WORKERS.map((w) =>
      startDocket(net!, w, ['worker', '--concurrency', '1', '--stop-timeout', '1'], hostEnv(net!, w, env!.env)),
    );
    await web.waitFor(/Docket is listening on http:\/\//, 60_000);
    for (const [i, w] of WORKERS.entries()) {
      const m = await starting[i].waitFor(/worker (\S+) is taking/, 60_000);
      workers[w] = { proc: starting[i], id: m[1] };
      // Each host has its own hostname, which names its worker.
      expect(m[1].startsWith(`${w}-`), m[1]).to.equal(true);
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && net) process.stderr.write(`\n${net.transcript()}\n`);
  });

  after(async () => {
    await net?.destroy();
    await env?.cleanup();
  });

  it('runs a job submitted through the web host on a worker host; its output reads through the web host', async () => {
    const id = await submit('print', { lines: 5 });
    const job = await waitUntil(async () => {
      const j = await getJob(id);
      return ['completed', 'failed'].includes(j.status) ? j : null;
    }, 30_000, `job ${id} to end`);
    expect(job.status).to.equal('completed');
    expect(job.resultSummary).to.equal('printed 5 lines');
    const text = (await output(id)).map((c) => c.text).join('');
    expect(printed(text)).to.deep.equal([1, 2, 3, 4, 5]);
    const started = (await events(id)).filter((e) => e.type === 'started');
    expect(started).to.have.length(1);
    const ran = hostOfWorker(started[0].actor);
    expect(ran, `started by ${started[0].actor}`).to.not.equal(undefined);
    // The output was mirrored on the disk of the host that ran it, and only there.
    expect(printed(readFileSync(jobLog(ran!, id), 'utf8'))).to.deep.equal([1, 2, 3, 4, 5]);
    for (const other of ['web', ...WORKERS].filter((h) => h !== ran)) expect(existsSync(jobLog(other, id)), other).to.equal(false);
    process.stdout.write(`      job ${id}: submitted to web (${net!.host('web').address}), ran on ${ran} (${workers[ran!].id})\n`);
  });

  it('a worker host cut off longer than the lease: its job completes once elsewhere, its late writes are refused, its child is killed', async () => {
    const leaseMs = env!.config.leaseMs;
    // 24 s a run: long enough that the cut-off copy still runs when the host comes back,
    // even when the broker first handed attempt 2 to the cut-off host's consumer (it is
    // given to the other host only once the broker misses that connection's heartbeats).
    const lines = 60;
    const id = await submit('print', { lines, delay: 400, pid: true });
    // Running, with its child's pid printed and a few lines written from the first host.
    const first = await waitUntil(async () => {
      const chunks = await output(id);
      const text = chunks.map((c) => c.text).join('');
      const pid = /^pid (\d+)$/m.exec(text);
      return pid && printed(text).length >= 4 ? { pid: Number(pid[1]) } : null;
    }, 30_000, `job ${id} to run and print`);
    const started1 = (await events(id)).find((e) => e.type === 'started' && e.attempt === 1)!;
    const victim = hostOfWorker(started1.actor)!;
    expect(victim, `started by ${started1.actor}`).to.not.equal(undefined);
    const survivor = WORKERS.find((w) => w !== victim)!;
    expect(net!.pids(victim), 'the job runs in a process on its host').to.include(first.pid);

    const cutAt = Date.now();
    net!.cut(victim);
    const started2 = await waitUntil(
      async () => (await events(id)).find((e) => e.type === 'started' && e.attempt === 2),
      60_000,
      `job ${id} to start again elsewhere`,
    );
    expect(started2.actor, 'attempt 2 runs on the other worker host').to.equal(workers[survivor].id);
    // Stay cut off for at least two leases: the lost host cannot tell it was replaced.
    await sleep(Math.max(0, cutAt + 2 * leaseMs - Date.now()));
    expect(alive(first.pid), 'the cut-off host still runs its copy of the job').to.equal(true);
    const restoreAt = Date.now();
    net!.restore(victim);

    // The zombie kill: back on the network, the host learns the job is no longer its own.
    await waitUntil(() => !alive(first.pid), 60_000, `the child ${first.pid} on ${victim} to be killed`);
    const killedAt = Date.now();
    // Killed, not left to finish: a child left running would end its job (and only then
    // be retired) some 24 s after it started.
    const wouldEnd = Date.parse(started1.at) + lines * 400;
    expect(killedAt, `killed ${killedAt - restoreAt} ms after the restore`).to.be.below(wouldEnd - 2000);
    await workers[victim].proc.waitFor(new RegExp(`job ${id} attempt 1 was taken from this worker; stopping it`), 10_000);

    const job = await waitUntil(async () => {
      const j = await getJob(id);
      return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : null;
    }, 60_000, `job ${id} to end`);
    expect(job.status).to.equal('completed');
    expect(job.attempt).to.equal(2);
    expect(job.resultSummary).to.equal(`printed ${lines} lines`);
    expect(job.progress).to.include({ current: lines, total: lines });

    const evs = await events(id);
    const completed = evs.filter((e) => e.type === 'completed');
    expect(completed, 'exactly one completion').to.have.length(1);
    expect(completed[0]).to.include({ attempt: 2, actor: workers[survivor].id });
    const retried = evs.find((e) => e.type === 'retried' && e.attempt === 1);
    expect(retried?.message).to.match(new RegExp(`^worker lost: ${workers[victim].id} (stopped renewing its lease|disconnected from the broker)`));
    expect(evs.filter((e) => e.type === 'started').map((e) => [e.attempt, e.actor])).to.deep.equal([
      [1, workers[victim].id],
      [2, workers[survivor].id],
    ]);

    // Nothing lost: the winning attempt's whole output, through the web host.
    const chunks = await output(id);
    const text = (attempt: number): string => chunks.filter((c) => c.attempt === attempt).map((c) => c.text).join('');
    expect(printed(text(2))).to.deep.equal(Array.from({ length: lines }, (_, i) => i + 1));
    const inDb1 = printed(text(1));
    // Late writes refused: no write of attempt 1 was taken once attempt 1 was given up.
    for (const c of chunks.filter((c) => c.attempt === 1)) expect(Date.parse(c.at)).to.be.at.most(Date.parse(retried!.at));
    // The cut-off host kept printing, and kept what it printed on its own disk; the
    // database has none of it (writes sent during the cut failed, or arrived late and
    // were refused by the attempt fence).
    const onDisk1 = await waitUntil(
      () => {
        const got = existsSync(jobLog(victim, id)) ? printed(readFileSync(jobLog(victim, id), 'utf8')) : [];
        return got.length > inDb1.length ? got : null;
      },
      30_000,
      `${victim}'s own log of job ${id} to hold the lines the database refused`,
    );
    expect(onDisk1.slice(0, inDb1.length)).to.deep.equal(inDb1);
    expect(printed(readFileSync(jobLog(survivor, id), 'utf8'))).to.deep.equal(printed(text(2)));

    const at = (e: ApiEvent): number => Date.parse(e.at);
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write(
      `      partition of ${victim} (lease ${s(leaseMs)}): cut → attempt 1 given up ${s(at(retried!) - cutAt)}` +
        ` → running on ${survivor} ${s(at(started2) - cutAt)} → completed ${s(at(completed[0]) - cutAt)};` +
        ` restored at ${s(restoreAt - cutAt)}, its child killed ${s(killedAt - restoreAt)} after;` +
        ` attempt 1 lines kept by the database ${inDb1.length}, printed on ${victim} ${onDisk1.length}\n`,
    );
  });
});
