/**
 * Root hook: after the last test, nothing may be left running. Mocha used to run with
 * `exit: true`, which ended the process whatever was still open and so hid a worker,
 * timer or connection a test forgot to stop. Without it a leak keeps the process alive
 * and the run hangs; this hook turns that hang into a failure that names what leaked,
 * and then ends the process, so CI gets a red run instead of a stuck one.
 */

/** How long handles may take to finish closing after the last `after` hook (sockets, child exits: seconds on a loaded machine). */
const GRACE_MS = 10_000;
/** Time for the reporter to print the failure before the process is ended. */
const EXIT_DELAY_MS = 1000;

interface Handle {
  constructor?: { name?: string };
  _handle?: { constructor?: { name?: string } } | null;
  remoteAddress?: string;
  remotePort?: number;
  localPort?: number;
  pid?: number;
  spawnargs?: string[];
  address?: () => unknown;
}

function isStdio(h: unknown): boolean {
  return h === process.stdin || h === process.stdout || h === process.stderr;
}

/**
 * What is still open besides the standard streams: the resource types Node reports
 * (`TCPSocketWrap`, `Timeout`, `ProcessWrap`, ...), with the details of the handles
 * behind them where Node exposes them.
 */
export function leftovers(ours: { timers: number } = { timers: 0 }): string[] {
  const types = process.getActiveResourcesInfo();
  for (let n = 0; n < ours.timers; n++) {
    const i = types.indexOf('Timeout');
    if (i >= 0) types.splice(i, 1);
  }
  // `_getActiveHandles` is undocumented but has been stable for years; it is the only way
  // to tell the standard streams from a leaked pipe of the same type, and to say more
  // about a socket or a child than its type.
  const handles = ((process as unknown as { _getActiveHandles?: () => Handle[] })._getActiveHandles?.() ?? []) as Handle[];
  for (const h of handles.filter(isStdio)) {
    // The handle class is `Pipe` or `TTY`; Node reports its resource as `PipeWrap`, `TTYWrap`.
    const type = h._handle?.constructor?.name;
    const i = type ? Math.max(types.indexOf(type), types.indexOf(`${type}Wrap`)) : -1;
    if (i >= 0) types.splice(i, 1);
  }
  if (types.length === 0) return [];
  const details = handles.filter((h) => !isStdio(h)).map(describe);
  return [...types, ...details.map((d) => `  ${d}`)];
}

function describe(h: Handle): string {
  const kind = h.constructor?.name ?? 'handle';
  if (kind === 'ChildProcess') return `child process ${h.pid ?? '?'}: ${(h.spawnargs ?? []).join(' ')}`;
  if (h.remoteAddress) return `${kind} to ${h.remoteAddress}:${h.remotePort ?? '?'}`;
  if (kind === 'Server' && typeof h.address === 'function') return `server listening on ${JSON.stringify(h.address())}`;
  return kind;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    // Mocha times an async hook with a timer of its own (even with no timeout): that
    // one is ours, not a leak. Our own sleep's timer has fired by the time we look.
    this.timeout(0);
    await sleep(0);
    let left = leftovers({ timers: 1 });
    for (let waited = 0; left.length > 0 && waited < GRACE_MS; waited += 100) {
      await sleep(100);
      left = leftovers({ timers: 1 });
    }
    if (left.length === 0) return;
    // The open handles would keep the process alive for ever: end it once mocha has
    // reported. The timer is unref'd, so it never itself holds the process open.
    setTimeout(() => process.exit(Math.max(1, Number(process.exitCode ?? 0))), EXIT_DELAY_MS).unref();
    throw new Error(`the tests left these running (stop them in an after hook):\n  ${left.join('\n  ')}`);
  },
};
