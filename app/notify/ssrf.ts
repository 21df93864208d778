/**
 * Where a webhook may not go: a job's owner writes the URL, and the request leaves from
 * inside the network. Only http and https; no address that is loopback, private,
 * link-local (cloud metadata at 169.254.169.254 among them), shared (CGNAT), multicast or
 * unspecified, unless DOCKET_WEBHOOK_ALLOW names its host, its address or a CIDR holding
 * it. The check is made on the address actually connected to (see webhook.ts), so a name
 * that resolves to a public address at validation and a private one at sending is refused.
 */
import { BlockList, isIP } from 'node:net';

/** A webhook refused for good: retrying cannot help. */
export class RefusedTarget extends Error {}

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  BLOCKED.addSubnet(net, bits, 'ipv6');
}

export interface AllowList {
  hosts: Set<string>;
  nets: BlockList;
}

export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const nets = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    const kind = isIP(addr);
    if (kind === 0) hosts.add(e.toLowerCase());
    else if (bits === undefined) nets.addAddress(addr, kind === 4 ? 'ipv4' : 'ipv6');
    else nets.addSubnet(addr, Number(bits), kind === 4 ? 'ipv4' : 'ipv6');
  }
  return { hosts, nets };
}

/** An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address. */
function unmapped(ip: string): { ip: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return { ip: m[1], family: 'ipv4' };
  return { ip, family: isIP(ip) === 6 ? 'ipv6' : 'ipv4' };
}

/** Throws RefusedTarget when `ip` (what `host` resolved to) may not be reached. */
export function checkAddress(host: string, ip: string, allow: AllowList): void {
  if (allow.hosts.has(host.toLowerCase().replace(/^\[|\]$/g, ''))) return;
  const a = unmapped(ip);
  if (allow.nets.check(a.ip, a.family)) return;
  if (BLOCKED.check(a.ip, a.family)) {
    throw new RefusedTarget(`${host} is ${ip}, a loopback, private or link-local address (not in DOCKET_WEBHOOK_ALLOW)`);
  }
}

/** Only http and https, with a host: the URL's own checks, before any lookup. */
export function checkUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new RefusedTarget(`"${raw.slice(0, 100)}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new RefusedTarget(`a webhook is http or https, not ${u.protocol}//`);
  }
  if (u.username || u.password) throw new RefusedTarget('a webhook URL may not carry a user name or password');
  return u;
}
