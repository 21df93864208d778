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

  it('reads several RabbitMQ nodes and the queue type', () => {
    const c = loadConfig({ AMQP_URL: 'amqp://a:5672, amqp://b:5673', AMQP_QUEUE_TYPE: 'quorum' });
    expect(c.amqpUrl).to.equal('amqp://a:5672, amqp://b:5673');
    expect(c.amqpQueueType).to.equal('quorum');
    expect(loadConfig({ AMQP_URL: 'amqp://a' }).amqpQueueType).to.equal('classic');
    expect(() => loadConfig({ AMQP_URL: 'amqp://a,,amqp://b' })).to.throw(ConfigError, /AMQP_URL has an empty node/);
    expect(() => loadConfig({ AMQP_URL: 'amqp://a,http://b' })).to.throw(ConfigError, /AMQP_URL must start with amqp:\/\//);
    expect(() => loadConfig({ AMQP_URL: 'amqp://a', AMQP_QUEUE_TYPE: 'mirrored' })).to.throw(ConfigError, /AMQP_QUEUE_TYPE must be classic or quorum, not "mirrored"/);
  });

  it('reads AMQP_PERSISTENT: persistent messages on classic queues unless false', () => {
    expect(loadConfig({ AMQP_URL: 'amqp://a' }).amqpPersistent).to.equal(true);
    expect(loadConfig({ AMQP_URL: 'amqp://a', AMQP_PERSISTENT: 'true' }).amqpPersistent).to.equal(true);
    expect(loadConfig({ AMQP_URL: 'amqp://a', AMQP_PERSISTENT: 'FALSE' }).amqpPersistent).to.equal(false);
    expect(() => loadConfig({ AMQP_URL: 'amqp://a', AMQP_PERSISTENT: 'yes' })).to.throw(ConfigError, /AMQP_PERSISTENT must be true or false, not "yes"/);
  });

  it('reads TRUST_PROXY as hops or addresses, refusing "true" and bad addresses', () => {
    expect(loadConfig({}).trustProxy).to.equal('loopback');
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).to.equal(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 192.168.0.0/16, loopback' }).trustProxy).to.equal('10.0.0.5, 192.168.0.0/16, loopback');
    expect(loadConfig({ TRUST_PROXY: 'fd00::/8' }).trustProxy).to.equal('fd00::/8');
    for (const bad of ['true', '10.0.0.300', '10.0.0.0/40', 'proxy.example', '99']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).to.throw(/TRUST_PROXY must be/);
    }
    expect(loadConfig({}).jobsPerMinute).to.equal(60);
    expect(() => loadConfig({ DOCKET_JOBS_PER_MINUTE: '-1' })).to.throw(/DOCKET_JOBS_PER_MINUTE must be a whole number/);
  });

  it('chooses the file store: database on MySQL, folder on SQLite, or as DOCKET_FILE_STORE says', () => {
    expect(loadConfig({}).fileStore).to.equal('folder');
    expect(loadConfig({ DATABASE_URL: 'mysql://root@localhost/docket' }).fileStore).to.equal('database');
    expect(loadConfig({ DOCKET_FILE_STORE: 'database' }).fileStore).to.equal('database');
    expect(loadConfig({ DATABASE_URL: 'mysql://root@localhost/docket', DOCKET_FILE_STORE: 'folder' }).fileStore).to.equal('folder');
    expect(() => loadConfig({ DOCKET_FILE_STORE: 's3' })).to.throw(ConfigError, 'DOCKET_FILE_STORE must be database or folder, not "s3"');
  });
});
