import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../app/config.js';
import { createLogger } from '../../app/logger.js';

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
});
