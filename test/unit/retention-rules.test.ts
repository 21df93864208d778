/** The retention and audit settings, the jobs page's rule, the `since` filter and who may discard. */
import { expect } from 'chai';
import { parseAction, parseSince } from '../../app/audit.js';
import { loadConfig } from '../../app/config.js';
import { ConfigError } from '../../app/errors.js';
import { canDiscard } from '../../app/policy.js';
import { retentionText } from '../../app/web/present.js';
import type { JobStatus, User } from '../../app/types.js';

const env = (extra: Record<string, string>) => ({ DATABASE_URL: 'sqlite::memory:', ...extra });

describe('retention and audit rules', () => {
  it('defaults to 30, 90 and 365 days, and refuses bad values by name', () => {
    const c = loadConfig(env({}));
    expect([c.retentionDays, c.retentionFailedDays, c.auditDays]).to.deep.equal([30, 90, 365]);
    expect(loadConfig(env({ DOCKET_RETENTION_DAYS: '0', DOCKET_AUDIT_DAYS: '0' })).retentionDays).to.equal(0);
    expect(() => loadConfig(env({ DOCKET_RETENTION_DAYS: '-1' }))).to.throw(ConfigError, /DOCKET_RETENTION_DAYS must be a whole number from 0/);
    expect(() => loadConfig(env({ DOCKET_RETENTION_FAILED_DAYS: '1.5' }))).to.throw(ConfigError, /DOCKET_RETENTION_FAILED_DAYS/);
    expect(() => loadConfig(env({ DOCKET_AUDIT_DAYS: '60' }))).to.throw(ConfigError, /DOCKET_AUDIT_DAYS \(60\) must be 0 \(keep forever\) or at least the longest job retention \(90 days\)/);
  });

  it('states the rule the jobs page shows', () => {
    expect(retentionText({ retentionDays: 30, retentionFailedDays: 90 })).to.equal('Finished jobs are kept 30 days; failed ones 90 days.');
    expect(retentionText({ retentionDays: 14, retentionFailedDays: 14 })).to.equal('Finished jobs are kept 14 days.');
    expect(retentionText({ retentionDays: 0, retentionFailedDays: 0 })).to.equal('Finished jobs are kept until they are cleared.');
    expect(retentionText({ retentionDays: 1, retentionFailedDays: 0 })).to.equal('Finished jobs are kept 1 day; failed ones until they are cleared.');
  });

  it('reads since as an ISO date or a time back, and actions from the list', () => {
    const now = Date.UTC(2026, 10, 29, 12);
    expect(parseSince('7d', now)).to.equal(now - 7 * 24 * 3600 * 1000);
    expect(parseSince('12h', now)).to.equal(now - 12 * 3600 * 1000);
    expect(parseSince('2026-11-01', now)).to.equal(Date.UTC(2026, 10, 1));
    expect(parseSince('2026-11-01T09:30:00Z', now)).to.equal(Date.UTC(2026, 10, 1, 9, 30));
    expect(parseSince('', now)).to.equal(null);
    expect(() => parseSince('last week', now)).to.throw(/since takes an ISO date/);
    expect(parseAction('job.discard')).to.equal('job.discard');
    expect(() => parseAction('toString')).to.throw(/action must be one of/);
  });

  it('lets the clear scope discard: owners their finished jobs, administrators also the command line’s', () => {
    const alice: User = { id: 1, username: 'alice', role: 'archivist' } as User;
    const admin: User = { id: 9, username: 'admin', role: 'admin' } as User;
    const job = (userId: number | null, status: JobStatus) => ({ userId, status });
    expect(canDiscard(alice, job(1, 'completed'))).to.equal(true);
    expect(canDiscard(alice, job(1, 'running'))).to.equal(false);
    expect(canDiscard(alice, job(2, 'failed'))).to.equal(false);
    expect(canDiscard(alice, job(null, 'failed'))).to.equal(false);
    expect(canDiscard(admin, job(null, 'cancelled'))).to.equal(true);
    expect(canDiscard(admin, job(1, 'completed'))).to.equal(false);
    expect(canDiscard(null, job(1, 'completed'))).to.equal(true);
  });
});
