/**
 * A three-node RabbitMQ cluster for tests (or one private node), from the machine's own `rabbitmq-server`:
 * each node on loopback with its own AMQP and distribution ports, its own data, log and
 * configuration folders (owned by the `rabbitmq` user, whose Erlang cookie all nodes
 * share), joined with `join_cluster`. The machine's main broker (5672) is not touched.
 * Needs root (to run the nodes as `rabbitmq`); about 40 s to start.
 */
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RabbitNode {
  name: string;
  port: number;
  url: string;
}

export class RabbitCluster {
  readonly nodes: RabbitNode[];

  private constructor(
    private readonly dir: string,
    basePort: number,
    tag: string,
    size: number,
  ) {
    this.nodes = Array.from({ length: size }, (_, i) => i).map((i) => {
      const port = basePort + i;
      return { name: `docket${tag}n${i + 1}@localhost`, port, url: `amqp://guest:guest@127.0.0.1:${port}` };
    });
  }

  /** Why a cluster cannot start here, or null. */
  static unavailable(): string | null {
    if (userInfo().uid !== 0) return 'starting RabbitMQ nodes as the rabbitmq user needs root';
    if (!existsSync('/usr/sbin/rabbitmq-server')) return 'rabbitmq-server is not installed';
    if (!existsSync('/var/lib/rabbitmq/.erlang.cookie')) return 'the rabbitmq user has no Erlang cookie';
    return null;
  }

  /** `size` 1: a single private node (no cluster), e.g. to restart a broker nobody else uses. */
  static async start(basePort: number, size = 3): Promise<RabbitCluster> {
    const tag = Math.random().toString(36).slice(2, 8);
    const c = new RabbitCluster(`/tmp/docket-rmq-${tag}`, basePort, tag, size);
    try {
      await Promise.all(c.nodes.map((n) => c.launch(n)));
      await Promise.all(c.nodes.map((n) => c.awaitStartup(n)));
      for (const n of c.nodes.slice(1)) {
        await c.ctl(n, ['stop_app']);
        await c.ctl(n, ['join_cluster', c.nodes[0].name]);
        await c.ctl(n, ['start_app']);
      }
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  /** The AMQP_URL naming every node, `first` first. */
  urls(first = 0): string {
    return [...this.nodes.slice(first), ...this.nodes.slice(0, first)].map((n) => n.url).join(',');
  }

  private folder(n: RabbitNode): string {
    return join(this.dir, n.name.split('@')[0]);
  }

  private env(n: RabbitNode): NodeJS.ProcessEnv {
    const base = this.folder(n);
    return {
      PATH: process.env.PATH,
      HOME: '/var/lib/rabbitmq',
      RABBITMQ_NODENAME: n.name,
      RABBITMQ_NODE_PORT: String(n.port),
      RABBITMQ_DIST_PORT: String(n.port + 100),
      RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
      RABBITMQ_LOG_BASE: join(base, 'log'),
      RABBITMQ_CONFIG_FILE: join(base, 'rabbitmq.conf'),
      RABBITMQ_CONF_ENV_FILE: join(base, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(base, 'pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  private async launch(n: RabbitNode): Promise<void> {
    const base = this.folder(n);
    for (const d of [base, join(base, 'mnesia'), join(base, 'log')]) mkdirSync(d, { recursive: true });
    writeFileSync(join(base, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${n.port}\nloopback_users = none\n`);
    writeFileSync(join(base, 'rabbitmq-env.conf'), '');
    writeFileSync(join(base, 'enabled_plugins'), '[].\n');
    const { uid, gid } = rabbitUser();
    for (const p of [this.dir, base, join(base, 'mnesia'), join(base, 'log'), join(base, 'rabbitmq.conf'), join(base, 'rabbitmq-env.conf'), join(base, 'enabled_plugins')]) {
      chownSync(p, uid, gid);
    }
    this.spawnNode(n);
  }

  private spawnNode(n: RabbitNode): void {
    const p = spawn('runuser', ['-u', 'rabbitmq', '--', '/usr/sbin/rabbitmq-server'], { env: this.env(n), stdio: 'ignore', detached: true });
    p.unref();
  }

  async ctl(n: RabbitNode, args: string[], timeoutMs = 60_000): Promise<string> {
    const { stdout } = await run('runuser', ['-u', 'rabbitmq', '--', '/usr/sbin/rabbitmqctl', '-n', n.name, ...args], {
      env: this.env(n),
      timeout: timeoutMs,
    });
    return stdout;
  }

  /** SIGKILL of the node's Erlang VM, as a crash. */
  kill(n: RabbitNode): void {
    const pid = Number(readFileSync(join(this.folder(n), 'pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL');
  }

  /** A clean stop and start of the node's RabbitMQ application (as `rabbitmqctl stop_app`, then `start_app`). */
  async stopApp(n: RabbitNode): Promise<void> {
    await this.ctl(n, ['stop_app']);
  }

  async startApp(n: RabbitNode): Promise<void> {
    await this.ctl(n, ['start_app'], 120_000);
    await this.awaitStartup(n);
  }

  /** Starts a killed node again (it rejoins its cluster). */
  async restart(n: RabbitNode): Promise<void> {
    this.spawnNode(n);
    await this.awaitStartup(n);
  }

  /** `await_startup` fails at once while the node has not yet registered: asked again until it answers. */
  private async awaitStartup(n: RabbitNode): Promise<void> {
    const end = Date.now() + 90_000;
    for (;;) {
      try {
        await this.ctl(n, ['await_startup'], 90_000);
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      await this.ctl(n, ['stop'], 30_000).catch(() => {
        try {
          this.kill(n);
        } catch {
          // never started
        }
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function rabbitUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('rabbitmq:'));
  if (!line) throw new Error('there is no rabbitmq user');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
