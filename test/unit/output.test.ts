import { expect } from 'chai';
import sinon from 'sinon';
import { OutputCapture, sliceBytes } from '../../workers/output.js';

function sink(result = true) {
  const written: Array<{ stream: string; text: string; truncated: boolean }> = [];
  const write = sinon.fake(async (stream: string, text: string, _bytes: number, truncated: boolean) => {
    written.push({ stream, text, truncated });
    return result;
  });
  return { written, sink: { write } };
}

describe('OutputCapture', () => {
  afterEach(() => sinon.restore());

  it('writes buffered output in order, merging pieces of the same stream', async () => {
    const { written, sink: s } = sink();
    const c = new OutputCapture(s, 1024 * 1024, null);
    c.push('stdout', 'a\n');
    c.push('stdout', 'b\n');
    c.push('stderr', 'oops\n');
    c.push('stdout', 'c\n');
    await c.finish();
    expect(written).to.deep.equal([
      { stream: 'stdout', text: 'a\nb\n', truncated: false },
      { stream: 'stderr', text: 'oops\n', truncated: false },
      { stream: 'stdout', text: 'c\n', truncated: false },
    ]);
    expect(c.bytes).to.equal(11);
  });

  it('keeps the head and the tail past the cap, with a notice of what was left out', async () => {
    const { written, sink: s } = sink();
    const c = new OutputCapture(s, 100, null);
    for (let i = 0; i < 100; i++) c.push('stdout', `line ${String(i).padStart(3, '0')}\n`); // 9 bytes each
    await c.finish();
    const all = written.map((w) => w.text).join('');
    expect(all.startsWith('line 000\nline 001\n')).to.equal(true);
    expect(all.endsWith('line 098\nline 099\n')).to.equal(true);
    const notice = written.find((w) => w.stream === 'system');
    expect(notice?.text).to.match(/\[output truncated: 800 bytes left out; the first 50 and last 50 bytes of 900 are kept\]/);
    expect(notice?.truncated).to.equal(true);
    expect(all).to.not.include('line 050');
  });

  it('stops writing once the database refuses the attempt (a zombie)', async () => {
    const { written, sink: s } = sink(false);
    const c = new OutputCapture(s, 1000, null);
    c.push('stdout', 'one\n');
    await c.flush();
    c.push('stdout', 'two\n');
    await c.finish();
    expect(written).to.have.length(1);
    expect(c.refused).to.equal(true);
  });

  it('reports a log file that cannot be written, naming the file', async () => {
    const { sink: s } = sink();
    const c = new OutputCapture(s, 1000, '/dev/null/docket-cannot-write-here/1.log');
    c.push('stdout', 'x\n');
    await c.finish();
    expect(c.error?.message).to.match(/docket-cannot-write-here/);
  });

  it('cuts UTF-8 text on character boundaries', () => {
    expect(sliceBytes('héllo', 2)).to.equal('h');
    expect(sliceBytes('héllo', 3)).to.equal('hé');
    expect(sliceBytes('abc', 10)).to.equal('abc');
    expect(sliceBytes('abc', 0)).to.equal('');
  });
});
