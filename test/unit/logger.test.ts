import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../app/config.js';
import { createLogger, lazyLogger } from '../../app/logger.js';

describe('logger', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'docket-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes its level and folder from the configuration, not from the process environment', async () => {
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'silly';
    try {
      const config = loadConfig({ LOG_LEVEL: 'warn', DOCKET_LOG_DIR: join(dir, 'logs') });
      expect([config.logLevel, config.logDir]).to.deep.equal(['warn', join(dir, 'logs')]);
      const log = createLogger(config);
      expect(log.level).to.equal('warn');
      expect(log.isLevelEnabled('info')).to.equal(false);
      expect(existsSync(join(dir, 'logs'))).to.equal(true);
      log.close();
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });

  it('makes the real logger only when a line at its level is written, for itself or a child', () => {
    const lines: Array<{ message: unknown; meta: unknown }> = [];
    let made = 0;
    const make = () => {
      made++;
      const real = createLogger(loadConfig({ LOG_LEVEL: 'warn', DOCKET_LOG_DIR: join(dir, 'logs') }));
      // Quiet: the lines are read from the logger's own stream.
      for (const t of real.transports) t.silent = true;
      real.on('data', (info: { message: unknown; job?: unknown }) => lines.push({ message: info.message, meta: info.job }));
      return real;
    };
    const log = lazyLogger('warn', make);
    log.info('below the level');
    log.debug('below the level');
    const child = log.child({ job: 7 });
    child.info('below the level too');
    expect(made).to.equal(0);
    // Nothing written: no log folder either.
    expect(existsSync(join(dir, 'logs'))).to.equal(false);
    child.warn('the first line that counts');
    log.error('and the parent');
    expect(made).to.equal(1);
    expect(lines).to.deep.equal([
      { message: 'the first line that counts', meta: 7 },
      { message: 'and the parent', meta: undefined },
    ]);
    expect(log.level).to.equal('warn');
    log.close();
  });
});
