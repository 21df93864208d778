/**
 * Retries a database write for up to `forMs` (the worker gives half a lease), 250 ms
 * apart: a job's end or output survives a short database outage (a MariaDB restart)
 * instead of failing the job. Past that, the lease runs out and another process
 * recovers the job, so giving up loses nothing.
 */
export async function retryWrite<T>(fn: () => Promise<T>, forMs: number): Promise<T> {
  const until = Date.now() + forMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
