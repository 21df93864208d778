import { expect } from 'chai';
import { loadConfig } from '../../app/config.js';
import { ConfigError } from '../../app/errors.js';

describe('configuration', () => {
  it('defaults to SQLite under db/ and the db transport', () => {
    const c = loadConfig({});
    expect(c.database.client).to.equal('sqlite');
    expect(c.database.client === 'sqlite' && c.database.filename).to.match(/db\/docket\.sqlite3$/);
    expect(c.amqpUrl).to.equal(null);
    expect(c.port).to.equal(3000);
    expect(c.host).to.equal('127.0.0.1');
    expect(c.logLevel).to.equal('info');
    expect(c.logDir).to.match(/\/logs$/);
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('parses a MySQL URL', () => {
    const c = loadConfig({ DATABASE_URL: 'mysql://u:p%40ss@db.example:3307/archive' });
    expect(c.database).to.include({ client: 'mysql', host: 'db.example', port: 3307, user: 'u', password: 'p@ss', database: 'archive' });
  });

  it('names the bad variable in one clear line', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x/y' })).to.throw(ConfigError, /DATABASE_URL must start with mysql:\/\/ or sqlite:/);
    expect(() => loadConfig({ DATABASE_URL: 'nonsense' })).to.throw(ConfigError, /DATABASE_URL "nonsense" is not a URL/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root@localhost/' })).to.throw(/names no database/);
    expect(() => loadConfig({ AMQP_URL: 'http://x' })).to.throw(/AMQP_URL must start with amqp:\/\//);
    expect(() => loadConfig({ PORT: 'eighty' })).to.throw(/PORT must be a whole number/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).to.throw(/LOG_LEVEL must be one of/);
    expect(() => loadConfig({ DOCKET_LEASE_MS: '1000', DOCKET_HEARTBEAT_MS: '900' })).to.throw(/at least twice/);
  });
});
