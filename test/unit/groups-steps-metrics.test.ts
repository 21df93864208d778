/** The pure parts of envelopes: combined status, step tracking and text, exposition. */
import { expect } from 'chai';
import { groupStatus } from '../../app/groups/status.js';
import { paramsFromPrevious } from '../../app/store/group-chain.js';
import { routePattern, statusClass } from '../../app/web/http-metrics.js';
import { stepsOf, stepsText } from '../../app/steps.js';
import type { StatusCounts } from '../../app/store/group-read.js';
import { StepTracker } from '../../workers/steps.js';

const counts = (c: Partial<StatusCounts>): StatusCounts => ({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, ...c });

describe('group status', () => {
  it('speaks the envelope queue’s words', () => {
    expect(groupStatus(counts({ queued: 3 }))).to.deep.equal({ status: 'Queued', complete: false });
    expect(groupStatus(counts({ queued: 2, running: 1 }))).to.deep.equal({ status: 'SuccessActive', complete: false });
    expect(groupStatus(counts({ queued: 1, completed: 1 }))).to.deep.equal({ status: 'SuccessActive', complete: false });
    expect(groupStatus(counts({ running: 1, failed: 1 }))).to.deep.equal({ status: 'ErrorsActive', complete: false });
    expect(groupStatus(counts({ completed: 3 }))).to.deep.equal({ status: 'Success', complete: true });
    expect(groupStatus(counts({ completed: 1, failed: 1, cancelled: 1 }))).to.deep.equal({ status: 'Errors', complete: true });
    expect(groupStatus(counts({ completed: 1, cancelled: 1 }))).to.deep.equal({ status: 'Cancelled', complete: true });
  });
});

describe('progress steps', () => {
  it('makes the reported step active and the ones before it done, timing each', () => {
    let now = 1000;
    const t = new StepTracker(() => now);
    t.declare(['Determine position', 'Build spectra']);
    expect(t.steps.map((s) => s.status)).to.deep.equal([0, 0]);
    t.step('Determine position', { current: 1, total: 1, text: 'Working on overlap 1 / 1' });
    now = 3000;
    t.step('Build spectra');
    t.step('Report');
    expect(t.steps.map((s) => [s.label, s.status])).to.deep.equal([['Determine position', 2], ['Build spectra', 2], ['Report', 1]]);
    expect(t.steps[0]).to.include({ startedAt: 1000, finishedAt: 3000, extra: 'Working on overlap 1 / 1' });
    expect(t.active()?.label).to.equal('Report');
  });

  it('reads as Swift’s text, and a completed job’s steps are all done', () => {
    const t = new StepTracker(() => 0);
    t.declare(['Determine position', 'Build spectra']);
    t.step('Determine position', { text: 'Working on overlap 1 / 1' });
    const running = stepsOf({ status: 'running', progressSteps: t.steps, finishedAt: null }, 500);
    expect(stepsText(running)).to.equal('Determine position. - ACTIVE -- Working on overlap 1 / 1\nBuild spectra. - WAITING');
    expect(running?.[0].runningMs).to.equal(500);
    const done = stepsOf({ status: 'completed', progressSteps: t.steps, finishedAt: 800 });
    expect(done?.map((s) => s.statusWord)).to.deep.equal(['DONE', 'DONE']);
    expect(stepsOf({ status: 'queued', progressSteps: null, finishedAt: null })).to.equal(null);
  });
});

describe('HTTP request metrics labels', () => {
  it('name a status class and a route pattern, never a raw URL', () => {
    expect([200, 204, 302, 404, 500, 99].map(statusClass)).to.deep.equal(['2xx', '2xx', '3xx', '4xx', '5xx', 'other']);
    expect(routePattern('/api', '/jobs/:id')).to.equal('/api/jobs/:id');
    expect(routePattern('', ['/jobs/new', '/api/jobs'])).to.equal('/jobs/new|/api/jobs');
    expect(routePattern('', '')).to.equal('/');
  });
});

describe('a chain step taking the previous step’s description', () => {
  it('replaces every "@previous" with the description the step before named', () => {
    expect(paramsFromPrevious({ description: '@previous', format: 'pdf' }, 'description:42', 7)).to.deep.equal({ description: '42', format: 'pdf' });
    expect(paramsFromPrevious({ description: '12' }, 'description:42', 7), 'nothing to take').to.equal(null);
    const none = paramsFromPrevious({ description: '@previous' }, null, 7);
    expect(none).to.be.instanceOf(Error);
    expect((none as Error).message).to.equal('job 7 named no description for "description" to take');
    expect(paramsFromPrevious({ description: '@previous' }, 'file:3', 7)).to.be.instanceOf(Error);
  });
});
