import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../app/errors.js';
import { getTask, listTasks } from '../../app/tasks/index.js';
import { importTaskModule } from '../../app/tasks/extra.js';
import { FAULT_TASKS_MODULE } from '../faults/tasks.js';

describe('task catalogue', () => {
  it('holds the production tasks, and not the fault suite\'s', () => {
    const names = listTasks().map((t) => t.name);
    for (const n of ['noop', 'sleep', 'print', 'finding-aid', 'csv-import', 'csv-export', 'publication-status', 'move']) {
      expect(names).to.include(n);
    }
    for (const n of ['fault-probe', 'flaky', 'time-limited', 'exclusive']) expect(names).to.not.include(n);
    // Specs only: a handler is a worker's business.
    expect(listTasks().filter((t) => 'run' in t).map((t) => t.name)).to.deep.equal([]);
  });

  it('lets csv-import own the upload its params name, and the result tasks own their stored files', () => {
    const files = getTask('csv-import')!.files!;
    expect(files({ file: 'f0123456789abcdef0123456789abcdef' })).to.deep.equal(['f0123456789abcdef0123456789abcdef']);
    // An older job's path goes to the store too, which removes only what lies in its uploads folder.
    expect(files({ file: '/srv/docket/results/uploads/ab12.csv' })).to.deep.equal(['/srv/docket/results/uploads/ab12.csv']);
    expect(files({})).to.deep.equal([]);
    // Declared (even with no parameter file): their results are the job's stored files.
    expect(getTask('csv-export')!.files!({ description: 'x' })).to.deep.equal([]);
    expect(getTask('finding-aid')!.files!({ description: 'x' })).to.deep.equal([]);
    expect(getTask('move')!.files).to.equal(undefined);
  });

  describe('extra task modules (DOCKET_EXTRA_TASKS)', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'docket-extra-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loads the fault suite\'s tasks, each with its handler', async () => {
      const tasks = await importTaskModule(FAULT_TASKS_MODULE);
      expect(tasks.map((t) => t.name)).to.deep.equal(['fault-probe', 'flaky', 'time-limited', 'exclusive']);
      expect(tasks.every((t) => typeof (t as { run?: unknown }).run === 'function')).to.equal(true);
    });

    it('names the module and what is wrong with it', async () => {
      const missing = join(dir, 'missing.mjs');
      const err1 = await importTaskModule(missing).catch((e: Error) => e);
      expect(err1).to.be.instanceOf(ConfigError);
      expect((err1 as Error).message).to.match(/^DOCKET_EXTRA_TASKS: cannot load .*missing\.mjs/);
      const bad = join(dir, 'bad.mjs');
      writeFileSync(bad, 'export const tasks = [{ title: "no name" }];\n');
      const err2 = await importTaskModule(bad).catch((e: Error) => e);
      expect((err2 as Error).message).to.equal(`DOCKET_EXTRA_TASKS: ${bad} must export "tasks", an array of task definitions`);
    });
  });
});
