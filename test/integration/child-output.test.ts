import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildMessage, ParentMessage } from '../../workers/protocol.js';
import { sentinel } from '../../workers/protocol.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A job's child process on its own, as a worker forks it. */
describe('a job child process and its output', function () {
  this.timeout(30_000);
  let child: ChildProcess | null = null;

  afterEach(() => {
    child?.kill('SIGKILL');
    child = null;
  });

  /** A child as the worker forks it, with what it sends and prints recorded. */
  async function startChild(): Promise<{ messages: ChildMessage[]; out: Buffer[]; err: Buffer[] }> {
    child = fork(join(ROOT, 'workers', 'child.ts'), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: ['--import', 'tsx'],
    });
    const seen = { messages: [] as ChildMessage[], out: [] as Buffer[], err: [] as Buffer[] };
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    child.on('message', (m: ChildMessage) => (m.type === 'ready' ? ready() : seen.messages.push(m)));
    child.stdout!.on('data', (b: Buffer) => seen.out.push(b));
    child.stderr!.on('data', (b: Buffer) => seen.err.push(b));
    await isReady;
    return seen;
  }

  async function runJob(seen: { messages: ChildMessage[] }, job: Extract<ParentMessage, { type: 'run' }>['job']): Promise<ChildMessage> {
    const before = seen.messages.length;
    child!.send({ type: 'run', job, resultsDir: ROOT } satisfies ParentMessage);
    const deadline = Date.now() + 10_000;
    while (seen.messages.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const reply = seen.messages[before];
    expect(reply, `a reply to job ${job.id}`).to.not.equal(undefined);
    return reply;
  }

  it('marks the end of every job on both streams, after all it printed, quiet jobs too', async () => {
    const seen = await startChild();
    const jobs = [
      { id: 1, attempt: 1, task: 'noop', params: {} },
      { id: 2, attempt: 1, task: 'print', params: { lines: 20, stderr: true } },
      { id: 3, attempt: 2, task: 'print', params: { lines: 3 } },
      { id: 4, attempt: 1, task: 'noop', params: {} },
    ];
    for (const job of jobs) expect((await runJob(seen, job)).type).to.equal('done');
    // Give the pipes a moment: all was handed over before the replies.
    await new Promise((r) => setTimeout(r, 200));
    const marks = (text: string) => text.split('\u0000').filter((p) => p.startsWith('docket-end '));
    const out = Buffer.concat(seen.out).toString();
    const err = Buffer.concat(seen.err).toString();
    const ends = jobs.map((j) => `docket-end ${j.id}.${j.attempt}`);
    expect(marks(out)).to.deep.equal(ends);
    expect(marks(err)).to.deep.equal(ends);
    expect(out).to.include(`line 19\n${sentinel(2, 1)}`).and.include(`line 3\n${sentinel(3, 2)}`);
    expect(err).to.include(`line 20\n${sentinel(2, 1)}`);
  });

  it('hands its output over as it prints: a job cannot run ahead of a worker that is not reading', async () => {
    child = fork(join(ROOT, 'workers', 'child.ts'), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: ['--import', 'tsx'],
    });
    const messages: ChildMessage[] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    child.on('message', (m: ChildMessage) => (m.type === 'ready' ? ready() : messages.push(m)));
    const out: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.resume();
    await isReady;
    // The worker stops reading (busy, say); the task prints far more than a pipe holds.
    child.stdout!.pause();
    const lines = 300_000; // about 2.6 MB, in 64 KB writes
    const run: ParentMessage = { type: 'run', job: { id: 7, attempt: 1, task: 'print', params: { lines } }, resultsDir: ROOT };
    child.send(run);
    await new Promise((r) => setTimeout(r, 1500));
    // Had its writes been queued in its own memory, the job would have finished by now.
    expect(messages.map((m) => m.type)).to.deep.equal([]);
    child.stdout!.resume();
    const deadline = Date.now() + 20_000;
    while (!messages.some((m) => m.type === 'done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(messages.map((m) => m.type)).to.include('done');
    const text = Buffer.concat(out).toString();
    expect(text.endsWith(`line ${lines}\n${sentinel(7, 1)}`)).to.equal(true);
  });
});
