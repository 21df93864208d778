/**
 * The notification settings (mail, webhooks, the outbox's retries), read with the rest of
 * the configuration and validated once.
 */
import { isIP } from 'node:net';
import { ConfigError } from './errors.js';
import { fromRoot } from './paths.js';

export interface NotifyConfig {
  /** `smtp://` or `smtps://user:pass@host:port` (SMTP_URL); null writes mails to `mailDir`. */
  readonly smtpUrl: string | null;
  /** The From of every mail (DOCKET_MAIL_FROM). Default `Docket <docket@localhost>`. */
  readonly mailFrom: string;
  /** Where mails go without SMTP_URL, as .eml files (DOCKET_MAIL_DIR). Default `logs/mail`. */
  readonly mailDir: string;
  /** The address people reach Docket at, for links in mails and webhooks (DOCKET_BASE_URL). Default `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  /** HMAC key of webhook signatures (DOCKET_WEBHOOK_SECRET); null sends them unsigned. */
  readonly webhookSecret: string | null;
  /** Hosts, addresses and CIDRs a webhook may reach besides public addresses (DOCKET_WEBHOOK_ALLOW). */
  readonly webhookAllow: readonly string[];
  /** First retry delay of a failed delivery, doubling each try up to an hour (DOCKET_NOTIFY_BACKOFF_MS). Default 30 s. */
  readonly backoffMs: number;
  /** A delivery still failing this long after its event is given up (DOCKET_NOTIFY_GIVE_UP_MS). Default a day. */
  readonly giveUpMs: number;
  /** How long one webhook request may take (DOCKET_WEBHOOK_TIMEOUT_MS). Default 10 s. */
  readonly webhookTimeoutMs: number;
}

function ms(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return n;
}

/** One entry of DOCKET_WEBHOOK_ALLOW: a host name, an address or a CIDR. */
function checkAllowEntry(entry: string): void {
  const [addr, bits, more] = entry.split('/');
  if (bits === undefined) {
    if (isIP(addr) || /^[A-Za-z0-9.-]+$/.test(addr)) return;
  } else if (isIP(addr) && more === undefined && /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (isIP(addr) === 4 ? 32 : 128)) {
    return;
  }
  throw new ConfigError(`DOCKET_WEBHOOK_ALLOW must list host names, addresses or CIDRs separated by commas, not "${entry.slice(0, 60)}"`);
}

function url(env: NodeJS.ProcessEnv, name: string, protocols: string[]): URL | null {
  const raw = env[name];
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} "${raw.slice(0, 80)}" is not a URL`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, not "${u.protocol}//"`);
  }
  return u;
}

export function loadNotifyConfig(env: NodeJS.ProcessEnv): NotifyConfig {
  const smtp = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const base = url(env, 'DOCKET_BASE_URL', ['http:', 'https:']);
  const allow = (env.DOCKET_WEBHOOK_ALLOW ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  allow.forEach(checkAllowEntry);
  const from = env.DOCKET_MAIL_FROM || 'Docket <docket@localhost>';
  if (/[\r\n]/.test(from) || !/@/.test(from)) throw new ConfigError('DOCKET_MAIL_FROM must be one address, such as "Docket <docket@example.org>"');
  return Object.freeze({
    smtpUrl: smtp ? smtp.href : null,
    mailFrom: from,
    mailDir: fromRoot(env.DOCKET_MAIL_DIR || 'logs/mail'),
    baseUrl: (base ? base.href : `http://127.0.0.1:${env.PORT || 3000}/`).replace(/\/+$/, ''),
    webhookSecret: env.DOCKET_WEBHOOK_SECRET || null,
    webhookAllow: Object.freeze(allow),
    backoffMs: ms(env, 'DOCKET_NOTIFY_BACKOFF_MS', 30_000, 10, 3_600_000),
    giveUpMs: ms(env, 'DOCKET_NOTIFY_GIVE_UP_MS', 24 * 3_600_000, 1000, 30 * 24 * 3_600_000),
    webhookTimeoutMs: ms(env, 'DOCKET_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
  });
}
