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
