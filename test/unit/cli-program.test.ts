import { expect } from 'chai';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { buildProgram, COMMAND_GROUPS, type CliIO } from '../../cli/program.js';

const io: CliIO = { out: () => undefined, err: () => undefined, exitCode: 0, stdin: new PassThrough(), openWrite: () => new PassThrough() };
const names = (p: Command): string[] => p.commands.map((c) => c.name());

describe('docket command groups', () => {
  it('name exactly the commands each group registers, each in one group only', async () => {
    for (const group of COMMAND_GROUPS) {
      const program = new Command('docket');
      (await group.load())(program, io);
      expect(names(program)).to.deep.equal([...group.commands]);
    }
    const all = COMMAND_GROUPS.flatMap((g) => g.commands);
    expect(new Set(all).size).to.equal(all.length);
  });

  it('builds the group of the command given alone, and every group otherwise, in the order of help', async () => {
    expect(names(await buildProgram(io, 'run'))).to.deep.equal(['run', 'tasks']);
    expect(names(await buildProgram(io, 'jobs:show'))).to.deep.equal(['jobs:list', 'jobs:show', 'jobs:cancel', 'jobs:retry', 'jobs:clear', 'jobs:delete', 'jobs:export']);
    const everything = COMMAND_GROUPS.flatMap((g) => g.commands);
    // Help, a mistyped command, or none: all of them, so help lists them and commander can suggest one.
    for (const first of [undefined, '--help', 'help', 'rnu']) expect(names(await buildProgram(io, first))).to.deep.equal(everything);
  });
});
