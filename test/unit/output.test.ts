import { expect } from 'chai';
import sinon from 'sinon';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BATCH_BYTES,
  CHUNK_BYTES,
  charStart,
  incompleteTail,
  nextCharStart,
  OutputCapture,
  type Chunk,
} from '../../workers/output.js';
import { sentinel, sentinelStart } from '../../workers/protocol.js';

function sink(result = true) {
  const written: Array<{ stream: string; text: string; truncated: boolean }> = [];
  const batches: Chunk[][] = [];
  const write = sinon.fake(async (chunks: Chunk[], truncated: boolean) => {
    batches.push(chunks);
    for (const c of chunks) written.push({ stream: c.stream, text: c.text.toString(), truncated });
    return result;
  });
  return { written, batches, sink: { write } };
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
    expect(c.errorIsTransient).to.equal(false);
  });

  it('reports a database that stayed away as a passing failure, and writes nothing after it', async () => {
    const write = sinon.fake.rejects(new Error('SQLITE_BUSY: database is locked'));
    const c = new OutputCapture({ write }, 1000, null);
    c.push('stdout', 'one\n');
    await c.flush();
    c.push('stdout', 'two\n');
    await c.finish();
    expect(c.error?.message).to.equal("cannot store the job's output: SQLITE_BUSY: database is locked");
    expect(c.errorIsTransient).to.equal(true);
    expect(write.callCount).to.equal(1);
  });

  it('joins a character split across two reads of a stream, with the other stream in between', async () => {
    const { written, sink: s } = sink();
    const c = new OutputCapture(s, 1024 * 1024, null);
    const e = Buffer.from('é'); // 0xc3 0xa9
    c.push('stdout', Buffer.concat([Buffer.from('h'), e.subarray(0, 1)]));
    c.push('stderr', Buffer.from('x\n'));
    c.push('stdout', Buffer.concat([e.subarray(1), Buffer.from('llo\n')]));
    await c.finish();
    expect(written.map((w) => [w.stream, w.text])).to.deep.equal([
      ['stdout', 'h'],
      ['stderr', 'x\n'],
      ['stdout', 'éllo\n'],
    ]);
    expect(c.bytes).to.equal(9);
  });

  it('keeps a character cut off at the very end, shown as U+FFFD', async () => {
    const { written, sink: s } = sink();
    const c = new OutputCapture(s, 1024 * 1024, null);
    c.push('stdout', Buffer.from([0x6f, 0x6b, 0xe2, 0x82]));
    await c.finish();
    expect(written.map((w) => w.text).join('')).to.equal('ok\ufffd');
  });

  it('stores bytes that are not UTF-8 as U+FFFD, in the database and the log file alike', async () => {
    const { written, sink: s } = sink();
    const file = join(mkdtempSync(join(tmpdir(), 'docket-output-')), 'jobs', '1.log');
    const c = new OutputCapture(s, 1024 * 1024, file);
    c.push('stdout', Buffer.from([0x61, 0xff, 0x62, 0x0a]));
    c.push('stdout', Buffer.from('é\n'));
    await c.finish();
    expect(written.map((w) => w.text)).to.deep.equal(['a\ufffdb\né\n']);
    expect(readFileSync(file, 'utf8')).to.equal('a\ufffdb\né\n');
    expect(c.bytes).to.equal(7);
  });

  it('writes a large burst in chunks and batches of bounded size, cut between characters', async () => {
    const { written, batches, sink: s } = sink();
    const c = new OutputCapture(s, 64 * 1024 * 1024, null);
    // 2-byte characters, one odd byte first: a cut at a round size would split one.
    const text = 'a' + 'é'.repeat(5 * CHUNK_BYTES);
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 65536) c.push('stdout', bytes.subarray(i, i + 65536));
    await c.finish();
    expect(written.map((w) => w.text).join('')).to.equal(text);
    for (const w of written) {
      expect(Buffer.byteLength(w.text)).to.be.at.most(CHUNK_BYTES);
      expect(w.text).to.not.include('\ufffd');
    }
    for (const b of batches) expect(b.reduce((n, ch) => n + ch.bytes, 0)).to.be.at.most(BATCH_BYTES);
    expect(batches.length).to.be.below(written.length);
  });

  it('goes on taking output while a write is under way, one write at a time, in order', async () => {
    const written: string[] = [];
    let inFlight = 0;
    let most = 0;
    const s = {
      write: async (chunks: Chunk[]) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        written.push(...chunks.map((ch) => ch.text.toString()));
        inFlight--;
        return true;
      },
    };
    const c = new OutputCapture(s, 64 * 1024 * 1024, null);
    let expected = '';
    for (let i = 0; i < 20_000; i++) {
      const line = `line ${i} ${'x'.repeat(40)}\n`;
      expected += line;
      c.push(i % 7 === 0 ? 'stderr' : 'stdout', line);
      if (i % 2000 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await c.finish();
    expect(most).to.equal(1);
    expect(written.join('')).to.equal(expected);
  });

  it('cuts the head and the tail between characters past the cap', async () => {
    const { written, sink: s } = sink();
    const c = new OutputCapture(s, 101, null);
    c.push('stdout', Buffer.from('€'.repeat(100))); // 3 bytes each
    await c.finish();
    const all = written.map((w) => w.text).join('');
    expect(all).to.not.include('\ufffd');
    const notice = written.find((w) => w.stream === 'system');
    expect(notice?.text).to.match(/the first 48 and last 51 bytes of 300 are kept/);
  });

  it('finds byte positions between UTF-8 characters', () => {
    const b = Buffer.from('aé€😀'); // 1 + 2 + 3 + 4 bytes
    expect(charStart(b, 2)).to.equal(1);
    expect(charStart(b, 3)).to.equal(3);
    expect(charStart(b, 9)).to.equal(6);
    expect(charStart(b, 6)).to.equal(6);
    expect(charStart(b, 99)).to.equal(10);
    expect(nextCharStart(b, 2)).to.equal(3);
    expect(nextCharStart(b, 7)).to.equal(10);
    expect(incompleteTail(b)).to.equal(10);
    expect(incompleteTail(b.subarray(0, 9))).to.equal(6);
    expect(incompleteTail(b.subarray(0, 2))).to.equal(1);
    expect(incompleteTail(Buffer.from([0xff, 0xfe]))).to.equal(2);
  });

  it('holds back only what may start the end-of-job sentinel', () => {
    const mark = Buffer.from(sentinel(12, 3));
    const out = Buffer.from('line 1\n');
    expect(sentinelStart(out, mark)).to.equal(out.length);
    expect(sentinelStart(Buffer.concat([out, mark.subarray(0, 5)]), mark)).to.equal(out.length);
    expect(sentinelStart(Buffer.concat([out, mark.subarray(0, 1)]), mark)).to.equal(out.length);
    // A NUL that cannot start the sentinel is output like any other byte.
    expect(sentinelStart(Buffer.from('a\u0000b'), mark)).to.equal(3);
    expect(sentinelStart(Buffer.concat([Buffer.from('a\u0000'), mark.subarray(0, 4)]), mark)).to.equal(2);
  });
});
