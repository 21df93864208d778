/**
 * One webhook delivery: a signed POST, no redirect followed, a time limit, at most 1 KB of
 * the answer kept. Node's http/https rather than fetch: the connection's own DNS lookup
 * goes through `checkAddress`, so the address checked is the address connected to (no
 * window for a name to change its answer in between).
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkAddress, checkUrl, type AllowList } from './ssrf.js';

/** The most of a receiver's answer kept (in the history and the outbox row). */
export const KEPT_BODY_BYTES = 1024;

export interface WebhookAnswer {
  status: number;
  /** The start of the answer's body, at most 1 KB. */
  body: string;
}

/** `sha256=` and the hex HMAC-SHA256 of `timestamp.body`, as GitHub and Stripe sign. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs `body` to `url`. Resolves with the status (whatever it is; a 3xx is not
 * followed); rejects with RefusedTarget for a URL that may not be reached, and with the
 * network's error (or a timeout) otherwise.
 */
export async function postWebhook(
  url: string,
  body: string,
  opts: { deliveryId: string; event: string; secret: string | null; allow: AllowList; timeoutMs: number; now: number },
): Promise<WebhookAnswer> {
  const u = checkUrl(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  // An address in the URL is never looked up: check it here.
  if (isIP(host)) checkAddress(host, host, opts.allow);
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      try {
        for (const a of addresses) checkAddress(hostname, a.address, opts.allow);
      } catch (refused) {
        return callback(refused as Error, '', 4);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
  const timestamp = String(Math.floor(opts.now / 1000));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'Docket-Webhook/1',
    'x-docket-event': opts.event,
    'x-docket-delivery': opts.deliveryId,
    'x-docket-timestamp': timestamp,
  };
  if (opts.secret) headers['x-docket-signature'] = signature(opts.secret, timestamp, body);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise<WebhookAnswer>((resolve, reject) => {
    const req = lib.request(u, { method: 'POST', headers, lookup, timeout: opts.timeoutMs, agent: false }, (res) => {
      const kept: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < KEPT_BODY_BYTES) kept.push(chunk.subarray(0, KEPT_BODY_BYTES - size));
        size += chunk.length;
        // Nothing more is kept: stop reading a large answer.
        if (size >= KEPT_BODY_BYTES) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(kept).toString('utf8') });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    // The whole request, not only the idle socket, is held to the limit.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs / 1000} s`)), opts.timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs / 1000} s`)));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}
