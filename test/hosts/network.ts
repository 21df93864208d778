/**
 * Test hosts on one machine: each host is a Linux network namespace with its own
 * address, hostname and folders, linked to a bridge in the root namespace by a veth pair.
 *
 *   root namespace                                   host "w1" (netns docket-<id>-w1)
 *   127.0.0.1:3306 MariaDB  ◄─ socat on 10.231.x.1:3306 ◄─┐
 *   127.0.0.1:5672 RabbitMQ ◄─ socat on 10.231.x.1:5672 ◄─┤  bridge dkb<id>, 10.231.x.1/24
 *                                                        └─ dkv<id>-1 ══ eth0 10.231.x.11
 *                                                            socat on the host's 127.0.0.1:3306 and :5672
 *
 * MariaDB and RabbitMQ listen on loopback only, so each host gets forwarders on its own
 * 127.0.0.1 with the same ports: a database or broker URL reads the same on every host.
 * All of a host's traffic crosses its one link, so `cut` (the root end of the link down)
 * is a network partition. Addresses are resolved by fixed neighbour entries, not ARP, so
 * that a cut drops packets silently, as a partition beyond the host's own cable does:
 * open connections hang and new ones wait for their SYN to be answered, instead of
 * failing fast on a missed ARP reply. `restore` brings the link back up, and what was
 * sent meanwhile arrives late, as it would after a real partition. The test process talks to a host's listeners through the
 * host's address.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostProcess } from './process.js';
import { claimSubnet, newRunState, saveRunState, sweepStale, teardown, type RunState } from './registry.js';
import { pidsIn, sh, startTicks } from './system.js';

export interface TestHost {
  name: string;
  netns: string;
  /** The host's address, reachable from the test process and from the other hosts. */
  address: string;
  /** The root end of its link (what `cut` takes down). */
  link: string;
  /** Its own folder (results, logs, database files live under it). */
  dir: string;
}

export interface NetworkOptions {
  /** Loopback ports of the root namespace to reach from every host at the same port. Default: none. */
  forward?: number[];
}

const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;

/** A locally administered MAC address for 10.231.x.n: fixed, so neighbours need no ARP. */
const mac = (x: number, n: number): string => [0x02, 0x00, 10, 231, x, n].map((b) => b.toString(16).padStart(2, '0')).join(':');

export class TestNetwork {
  private readonly hosts = new Map<string, TestHost>();
  private readonly procs: HostProcess[] = [];
  private destroyed = false;
  /** Set as teardown begins: from then on a process ending is expected, not news. */
  private stopping = false;
  private readonly onExit = (): void => void this.destroySync();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.destroySync();
    process.off(sig, this.onSignal);
    // Keep the signal's usual effect unless someone else handles it.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };

  private constructor(
    private readonly state: RunState,
    /** The bridge's address in the root namespace, where the forwarders listen. */
    readonly gateway: string,
    readonly dir: string,
  ) {}

  /** Builds the hosts; sweeps what killed runs left behind first. */
  static async create(names: string[], opts: NetworkOptions = {}): Promise<TestNetwork> {
    for (const n of names) {
      if (!HOST_NAME.test(n)) throw new Error(`host name "${n}" must be a lowercase letter then up to 11 letters or digits`);
    }
    if (new Set(names).size !== names.length) throw new Error(`host names repeat: ${names.join(', ')}`);
    sweepStale();
    const state = newRunState();
    saveRunState(state);
    const dir = mkdtempSync(join(tmpdir(), `docket-hosts-${state.id}-`));
    state.dirs.push(dir);
    const x = claimSubnet(state);
    const net = new TestNetwork(state, `10.231.${x}.1`, dir);
    process.on('exit', net.onExit);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, net.onSignal);
    try {
      net.build(names, x, opts.forward ?? []);
      await net.waitForwarders(opts.forward ?? []);
    } catch (err) {
      net.destroySync();
      throw err;
    }
    return net;
  }

  private build(names: string[], x: number, ports: number[]): void {
    const s = this.state;
    const bridge = `dkb${s.id}`;
    s.links.push(bridge);
    saveRunState(s);
    sh('ip', ['link', 'add', bridge, 'address', mac(x, 1), 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${this.gateway}/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    for (const port of ports) this.forwarder(null, `TCP-LISTEN:${port},bind=${this.gateway},reuseaddr,fork`, `TCP:127.0.0.1:${port}`);
    names.forEach((name, i) => {
      const host: TestHost = {
        name,
        netns: `docket-${s.id}-${name}`,
        address: `10.231.${x}.${11 + i}`,
        link: `dkv${s.id}-${i + 1}`,
        dir: join(this.dir, name),
      };
      s.namespaces.push(host.netns);
      s.links.push(host.link);
      saveRunState(s);
      mkdirSync(host.dir, { recursive: true });
      sh('ip', ['netns', 'add', host.netns]);
      sh('ip', ['link', 'add', host.link, 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac(x, 11 + i), 'netns', host.netns]);
      sh('ip', ['link', 'set', host.link, 'master', bridge, 'up']);
      sh('ip', ['neigh', 'replace', host.address, 'lladdr', mac(x, 11 + i), 'dev', bridge, 'nud', 'permanent']);
      const inNs = (...args: string[]): string => sh('ip', ['netns', 'exec', host.netns, ...args]);
      inNs('ip', 'link', 'set', 'lo', 'up');
      inNs('ip', 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
      inNs('ip', 'link', 'set', 'eth0', 'up');
      inNs('ip', 'route', 'add', 'default', 'via', this.gateway);
      inNs('ip', 'neigh', 'replace', this.gateway, 'lladdr', mac(x, 1), 'dev', 'eth0', 'nud', 'permanent');
      this.hosts.set(name, host);
      for (const port of ports) this.forwarder(host, `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:${this.gateway}:${port}`);
    });
  }

  /** A socat relay, in the root namespace (host null) or on a host. */
  private forwarder(host: TestHost | null, listen: string, to: string): void {
    const label = `${host?.name ?? 'root'}: socat ${listen} ${to}`;
    const p = host ? this.spawn(host.name, 'socat', [listen, to]) : this.track('root', label, spawn('socat', [listen, to], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
    void p.exited.then((e) => {
      if (!this.stopping) process.stderr.write(`test network: ${label} exited (${JSON.stringify(e)}): ${p.output}\n`);
    });
  }

  /** Waits until every forwarder listens (socat binds a moment after it starts). */
  private async waitForwarders(ports: number[]): Promise<void> {
    const listening = (netns: string | null): string =>
      netns ? sh('ip', ['netns', 'exec', netns, 'ss', '-Hltn']) : sh('ss', ['-Hltn']);
    const end = Date.now() + 10_000;
    for (const where of [null, ...[...this.hosts.values()].map((h) => h.netns)]) {
      const addr = where ? '127.0.0.1' : this.gateway;
      for (;;) {
        const ss = listening(where);
        if (ports.every((p) => ss.includes(`${addr}:${p} `))) break;
        const dead = this.procs.find((p) => p.exit);
        if (dead) throw new Error(`${dead.label} exited at start: ${dead.output.trim()}`);
        if (Date.now() > end) throw new Error(`forwarders on ${where ?? 'the root namespace'} did not listen on ${ports.join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  host(name: string): TestHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no test host "${name}"; hosts: ${[...this.hosts.keys()].join(', ')}`);
    return h;
  }

  /**
   * Runs a command on a host: in its network namespace, with its hostname, in its own
   * process group (so that stopping it stops its children too).
   */
  spawn(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): HostProcess {
    const h = this.host(name);
    const child = spawn(
      'ip',
      ['netns', 'exec', h.netns, 'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', h.name, cmd, ...args],
      { env: opts.env ?? process.env, cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return this.track(name, `${name}: ${[cmd, ...args].join(' ')}`, child);
  }

  private track(host: string, label: string, child: ReturnType<typeof spawn>): HostProcess {
    if (this.destroyed) {
      child.kill('SIGKILL');
      throw new Error('the test network is destroyed');
    }
    const p = new HostProcess(host, label, child);
    this.procs.push(p);
    if (child.pid) {
      this.state.processes.push({ pid: child.pid, ticks: startTicks(child.pid) });
      saveRunState(this.state);
    }
    return p;
  }

  /** Partitions a host: the root end of its link goes down; its open connections hang. */
  cut(name: string): void {
    sh('ip', ['link', 'set', this.host(name).link, 'down']);
  }

  /** Ends the partition: the link comes back and the host's connections resume. */
  restore(name: string): void {
    sh('ip', ['link', 'set', this.host(name).link, 'up']);
  }

  /** Processes running on a host right now. */
  pids(name: string): number[] {
    return pidsIn(this.host(name).netns);
  }

  /** What every process started on the hosts printed, for a failing test's message. */
  transcript(): string {
    return this.procs
      .filter((p) => p.host !== 'root' && !p.label.includes(' socat '))
      .map((p) => `---- ${p.label} (pid ${p.pid}${p.exit ? `, exited ${JSON.stringify(p.exit)}` : ''})\n${p.output}`)
      .join('\n');
  }

  /**
   * Stops the processes (SIGTERM, then SIGKILL), then removes hosts, links and folders;
   * fails naming whatever could not be removed (the next run's sweep tries again).
   */
  async destroy(graceMs = 3000): Promise<void> {
    if (this.destroyed) return;
    this.stopping = true;
    await Promise.all(this.procs.map((p) => p.stop(graceMs)));
    const left = this.destroySync();
    if (left.length) throw new Error(`the test network left behind:\n${left.join('\n')}`);
  }

  private destroySync(): string[] {
    if (this.destroyed) return [];
    this.destroyed = true;
    this.stopping = true;
    process.off('exit', this.onExit);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, this.onSignal);
    const left = teardown(this.state);
    if (left.length) process.stderr.write(`test network: could not remove\n${left.join('\n')}\n`);
    return left;
  }
}
