import { expect } from 'chai';
import { paramHelp, paramLabel, valueLabel } from '../../app/web/job-form.js';
import { matchText } from '../../app/web/jobs-pages.js';
import { progressOf, relativeTime, uploadName } from '../../app/web/present.js';

describe('web: how jobs are named and dated', () => {
  const now = Date.UTC(2026, 10, 22, 14, 0, 0);

  it('dates relative to now, then by day', () => {
    expect(relativeTime(null, now)).to.equal('N/A');
    expect(relativeTime(now - 3000, now)).to.equal('just now');
    expect(relativeTime(now + 2000, now)).to.equal('just now');
    expect(relativeTime(now - 42_000, now)).to.equal('42 s ago');
    expect(relativeTime(now - 3 * 60_000 - 5000, now)).to.equal('3 min ago');
    expect(relativeTime(now - 5 * 3600_000, now)).to.equal('5 h ago');
    expect(relativeTime(now - 30 * 3600_000, now)).to.equal('yesterday');
    expect(relativeTime(now - 3 * 86400_000, now)).to.equal('3 days ago');
    expect(relativeTime(now - 30 * 86400_000, now)).to.equal('2026-10-23');
  });

  it('names an import by the file the user uploaded, whatever form its parameters take', () => {
    expect(uploadName({ file: '/data/uploads/9f2c.csv', sourceName: 'Accession 12.csv' })).to.equal('Accession 12.csv');
    expect(uploadName({ file: { id: 'f-1', name: 'Parish.csv' } })).to.equal('Parish.csv');
    expect(uploadName({ fileId: 'f-2', fileName: 'C:\\Users\\me\\Fonds.csv' })).to.equal('Fonds.csv');
    expect(uploadName({ file: '/home/admin/list.csv' })).to.equal('list.csv');
    expect(uploadName({ file: '' })).to.equal(null);
    expect(uploadName(undefined)).to.equal(null);
  });

  it('drops the step a finished job was on from its progress, keeping the count', () => {
    const p = { progressCurrent: 3, progressTotal: null, progressText: 'checking the file' };
    expect(progressOf({ ...p, status: 'running' })?.label).to.equal('checking the file');
    expect(progressOf({ ...p, status: 'failed' })).to.equal(null);
    expect(progressOf({ ...p, progressTotal: 10, status: 'failed' })?.label).to.equal('3 of 10 · 30 %');
  });

  it('counts the jobs that match the filters against the tab', () => {
    expect(matchText(null, { count: 148, capped: false })).to.equal(null);
    expect(matchText({ count: 8, capped: false }, { count: 148, capped: false })).to.equal('8 of 148 jobs match the filters.');
    expect(matchText({ count: 10_000, capped: true }, { count: 10_000, capped: true })).to.equal('10,000+ of 10,000+ jobs match the filters.');
  });

  it('labels parameters in words', () => {
    expect(paramLabel('skipMatched')).to.equal('Skip matched records');
    expect(paramLabel('someNewThing')).to.equal('Some new thing');
    expect(paramHelp({ type: 'string', description: 'the new parent: its slug or its id' })).to.equal('The new parent: its slug or its id.');
    expect(valueLabel('inventory-summary')).to.equal('Inventory summary');
    expect(valueLabel('pdf')).to.equal('PDF');
    expect(valueLabel('low')).to.equal('Low');
  });
});
