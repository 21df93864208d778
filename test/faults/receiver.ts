/**
 * A webhook receiver on loopback for the fault suite: it keeps every POST it is sent
 * (delivery id, job, event, whether the signature checks out), can answer slowly (so a
 * sender can be killed while it waits), and knows which deliveries are still waiting.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  id: string;
  jobId: number;
  event: string;
  at: number;
  signed: boolean;
}

export interface Receiver {
  port: number;
  /** Every POST received, in order, duplicates included. */
  deliveries: Delivery[];
  /** Delivery ids whose request arrived and whose answer has not been written yet. */
  waiting: Set<string>;
  /** How long each answer is held back (changed while the scenario runs). */
  slowMs: number;
  close(): Promise<void>;
}

function signedBy(secret: string, headers: http.IncomingHttpHeaders, body: string): boolean {
  const got = String(headers['x-docket-signature'] ?? '');
  const want = `sha256=${createHmac('sha256', secret).update(`${String(headers['x-docket-timestamp'] ?? '')}.${body}`).digest('hex')}`;
  return got.length === want.length && timingSafeEqual(Buffer.from(got), Buffer.from(want));
}

/** Listens on 127.0.0.1 (a free port); the job and event come from the URL's query. */
export async function startReceiver(secret: string): Promise<Receiver> {
  const r: Receiver = { port: 0, deliveries: [], waiting: new Set(), slowMs: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const q = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
      const id = String(req.headers['x-docket-delivery'] ?? '');
      r.deliveries.push({ id, jobId: Number(q.get('job')), event: q.get('event') ?? '', at: Date.now(), signed: signedBy(secret, req.headers, body) });
      r.waiting.add(id);
      const answer = (): void => {
        r.waiting.delete(id);
        if (!res.destroyed) res.end('ok');
      };
      // A sender killed meanwhile closes the connection: the answer is never read.
      res.once('close', () => r.waiting.delete(id));
      if (r.slowMs > 0) setTimeout(answer, r.slowMs);
      else answer();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.port = (server.address() as AddressInfo).port;
  r.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return r;
}

export interface DeliveryCount {
  expected: number;
  delivered: number;
  /** Receipts beyond the first of one delivery id (at-least-once resends). */
  duplicates: number;
  /** Expected (job, event) pairs that never arrived. */
  lost: number;
  /** (job, event) pairs that arrived under two or more delivery ids (two outbox rows). */
  twiceById: number;
  /** (job, event) pairs that arrived but should not have. */
  unexpected: number;
  unsigned: number;
  /** A few lost or doubled pairs, for the report. */
  detail: string[];
}

/** Compares what arrived with what should have: one delivery per `job:event` key. */
export function countDeliveries(expected: Set<string>, deliveries: Delivery[]): DeliveryCount {
  const idsByKey = new Map<string, Set<string>>();
  const perId = new Map<string, number>();
  for (const d of deliveries) {
    const key = `${d.jobId}:${d.event}`;
    idsByKey.set(key, (idsByKey.get(key) ?? new Set()).add(d.id));
    perId.set(d.id, (perId.get(d.id) ?? 0) + 1);
  }
  const detail: string[] = [];
  let lost = 0;
  let delivered = 0;
  for (const key of expected) {
    if (idsByKey.has(key)) delivered++;
    else if (++lost <= 3) detail.push(`job ${key} never arrived`);
  }
  let twiceById = 0;
  let unexpected = 0;
  for (const [key, ids] of idsByKey) {
    if (ids.size > 1 && ++twiceById <= 3) detail.push(`job ${key} arrived as deliveries ${[...ids].join(', ')}`);
    if (!expected.has(key) && ++unexpected <= 3) detail.push(`job ${key} arrived but was not expected`);
  }
  const duplicates = [...perId.values()].reduce((n, k) => n + k - 1, 0);
  return { expected: expected.size, delivered, duplicates, lost, twiceById, unexpected, unsigned: deliveries.filter((d) => !d.signed).length, detail };
}
