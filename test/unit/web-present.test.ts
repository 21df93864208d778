import { expect } from 'chai';
import { describeHttpError } from '../../app/web/error-handler.js';
import { jobIdParam, localPath, loggedUrl } from '../../app/web/http.js';
import { registerRecordLink, recordLink } from '../../app/web/links.js';
import { formatDuration, progressOf, waitingReason, type QueueState } from '../../app/web/present.js';
import { summaryText } from '../../app/web/jobs-pages.js';
import { notImportedCount, notImportedSummary } from '../../app/tasks/archive.js';
import { offersDownload } from '../../app/types.js';

describe('web helpers', () => {
  it('reads back the count of a failed import\'s rows not imported, and offers the result of a completed or failed job only', () => {
    expect(notImportedSummary(302, '2 skipped, 300 from row 501 on')).to.equal('302 rows not imported (2 skipped, 300 from row 501 on)');
    expect(notImportedCount(notImportedSummary(302, 'x'))).to.equal(302);
    expect(notImportedCount(notImportedSummary(1, 'x'))).to.equal(1);
    for (const other of [null, '', '300 rows: 299 created', 'rows not imported']) expect(notImportedCount(other), String(other)).to.equal(null);
    expect(offersDownload({ status: 'failed', resultFile: 'f' })).to.equal(true);
    expect(offersDownload({ status: 'completed', resultFile: 'f' })).to.equal(true);
    expect(offersDownload({ status: 'failed', resultFile: null })).to.equal(false);
    for (const status of ['queued', 'running', 'cancelled'] as const) expect(offersDownload({ status, resultFile: 'f' }), status).to.equal(false);
  });

  it('follows only local paths after a login or a form', () => {
    expect(localPath('/jobs?tab=failed', '/jobs')).to.equal('/jobs?tab=failed');
    for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example', 'jobs', '/jobs\r\nSet-Cookie: x=1', null, '',
      '/\t/evil.example/x', '/\n/evil.example', '/\u0000/evil.example', '/\u007f/x', '/a\\b', '/\u000b/evil.example']) {
      expect(localPath(evil, '/jobs'), String(evil)).to.equal('/jobs');
    }
  });

  it('blanks the CSRF token of a URL written to the log', () => {
    const url = (originalUrl: string) => loggedUrl({ originalUrl } as Parameters<typeof loggedUrl>[0]);
    expect(url('/descriptions/import?_csrf=s3cr3t-token')).to.equal('/descriptions/import?_csrf=[redacted]');
    expect(url('/x?a=1&_CSRF=abc&b=2')).to.equal('/x?a=1&_CSRF=[redacted]&b=2');
    expect(url('/jobs?tab=all')).to.equal('/jobs?tab=all');
  });

  it('reads a job id from the path, anything else being a job that does not exist', () => {
    expect(jobIdParam('42')).to.equal(42);
    for (const bad of ['0', '-1', '1.5', 'abc', '42abc', '01', '99999999999999999', undefined]) {
      expect(() => jobIdParam(bad), String(bad)).to.throw('No such job');
    }
  });

  it('says progress in words and as a percentage', () => {
    expect(progressOf({ progressCurrent: 3, progressTotal: 10, progressText: 'line 3 of 10' })).to.include({
      percent: 30,
      label: 'line 3 of 10 · 30 %',
    });
    expect(progressOf({ progressCurrent: 5, progressTotal: 4, progressText: null })).to.include({ percent: 100, label: '5 of 4 · 100 %' });
    expect(progressOf({ progressCurrent: null, progressTotal: null, progressText: 'reading the file' })).to.include({
      percent: null,
      label: 'reading the file',
    });
    expect(progressOf({ progressCurrent: null, progressTotal: null, progressText: null })).to.equal(null);
  });

  it('formats durations for people', () => {
    expect(formatDuration(null)).to.equal('N/A');
    expect(formatDuration(850)).to.equal('850 ms');
    expect(formatDuration(4200)).to.equal('4.2 s');
    expect(formatDuration(185_000)).to.equal('3 min 5 s');
    expect(formatDuration(2 * 3600_000 + 14 * 60_000)).to.equal('2 h 14 min');
  });

  it('explains why a queued job waits', () => {
    const q: QueueState = { paused: false, pausedReason: null, brokerUp: true, abilities: new Set(['sleep']) };
    expect(waitingReason({ status: 'queued', task: 'sleep' }, q)).to.equal(null);
    expect(waitingReason({ status: 'running', task: 'print' }, q)).to.equal(null);
    expect(waitingReason({ status: 'queued', task: 'print' }, q)).to.equal('Waiting: no running worker takes "print" jobs.');
    expect(waitingReason({ status: 'queued', task: 'sleep' }, { ...q, brokerUp: false })).to.match(/broker is unreachable/);
    expect(waitingReason({ status: 'queued', task: 'sleep' }, { ...q, paused: true, pausedReason: 'paused by admin' })).to.equal(
      'Waiting: processing is paused (paused by admin).',
    );
  });

  it('writes the summary line with capped counts', () => {
    const c = (count: number, capped = false) => ({ count, capped });
    expect(summaryText({ all: c(12), active: c(2), failed: c(1) })).to.equal('12 jobs: 2 active, 1 failed');
    expect(summaryText({ all: c(1), active: c(1), failed: c(0) })).to.equal('1 job: 1 active, 0 failed');
    expect(summaryText({ all: c(10_000, true), active: c(3), failed: c(10_000, true) })).to.equal('10,000+ jobs: 3 active, 10,000+ failed');
  });

  it('links a job to its record when a page for that kind of record is registered', () => {
    expect(recordLink('shelf:7')).to.deep.equal({ href: null, label: 'shelf 7' });
    registerRecordLink('shelf', (id) => ({ href: `/shelves/${id}`, label: `Shelf ${id}` }));
    expect(recordLink('shelf:7')).to.deep.equal({ href: '/shelves/7', label: 'Shelf 7' });
    expect(recordLink(null)).to.equal(null);
  });

  it('turns body-parser, CSRF and unknown errors into a status and a message', () => {
    expect(describeHttpError({ type: 'entity.parse.failed', status: 400, message: 'Unexpected token' })).to.deep.equal({
      status: 400,
      message: 'The request body is not valid JSON: Unexpected token',
    });
    expect(describeHttpError({ code: 'EBADCSRFTOKEN', status: 403 }).status).to.equal(403);
    expect(describeHttpError(new Error('secret detail'))).to.deep.equal({
      status: 500,
      message: 'Something went wrong on the server. The error was logged.',
    });
  });
});
