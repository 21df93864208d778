import { expect } from 'chai';
import { canCancel, canRetry, canSee, clearScope, listScope } from '../../app/policy.js';
import type { User } from '../../app/types.js';

describe('permission policy', () => {
  const ann: User = { id: 2, username: 'ann', role: 'archivist' };
  const bob: User = { id: 3, username: 'bob', role: 'archivist' };
  const admin: User = { id: 1, username: 'admin', role: 'admin' };
  const annsRunning = { userId: 2, status: 'running' as const };
  const annsFailed = { userId: 2, status: 'failed' as const };
  const cliJob = { userId: null, status: 'completed' as const };

  it('lets archivists see only their own jobs; administrators and the CLI see all', () => {
    expect(canSee(ann, annsRunning)).to.equal(true);
    expect(canSee(bob, annsRunning)).to.equal(false);
    expect(canSee(bob, cliJob)).to.equal(false);
    expect(canSee(admin, annsRunning)).to.equal(true);
    expect(canSee(null, cliJob)).to.equal(true);
  });

  it('allows cancel of active jobs and retry of failed ones, to those who may see them', () => {
    expect(canCancel(ann, annsRunning)).to.equal(true);
    expect(canCancel(ann, annsFailed)).to.equal(false);
    expect(canCancel(bob, annsRunning)).to.equal(false);
    expect(canRetry(ann, annsFailed)).to.equal(true);
    expect(canRetry(ann, annsRunning)).to.equal(false);
    expect(canRetry(admin, annsFailed)).to.equal(true);
  });

  it('scopes listing and clearing', () => {
    expect(listScope(ann)).to.deep.equal({ userId: 2 });
    expect(listScope(admin)).to.deep.equal({ userId: null });
    expect(clearScope(ann)).to.deep.equal({ userId: 2, includeCommandLine: false });
    expect(clearScope(admin)).to.deep.equal({ userId: 1, includeCommandLine: true });
  });
});
