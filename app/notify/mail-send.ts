/**
 * Sending a mail: over SMTP_URL with nodemailer, or, without SMTP_URL, into the mail
 * folder as an .eml file. nodemailer is imported only when a mail goes over SMTP, so
 * processes that never send one never load it.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NotifyConfig } from '../notify-config.js';
import { toRfc5322, type MailMessage } from './mail-message.js';

/** What the sender says about a sent mail, for the job's history. */
export interface MailSent {
  where: string;
}

interface SmtpTransport {
  sendMail(m: { envelope: { from: string; to: string[] }; raw: string }): Promise<{ response?: string }>;
  close(): void;
}

/** The bare address of "Name <addr>" or "addr". */
export function bareAddress(s: string): string {
  const m = /<([^>]+)>/.exec(s);
  return (m ? m[1] : s).trim();
}

let smtp: { url: string; transport: SmtpTransport } | null = null;

async function smtpTransport(url: string): Promise<SmtpTransport> {
  if (smtp?.url === url) return smtp.transport;
  // Loaded here, not at the top: a process that never mails never loads it.
  const nodemailer = (await import('nodemailer')).default;
  smtp?.transport.close();
  smtp = { url, transport: nodemailer.createTransport(url) };
  return smtp.transport;
}

export async function sendMail(cfg: NotifyConfig, m: MailMessage): Promise<MailSent> {
  const raw = toRfc5322(m);
  if (cfg.smtpUrl) {
    const t = await smtpTransport(cfg.smtpUrl);
    const info = await t.sendMail({ envelope: { from: bareAddress(m.from), to: [bareAddress(m.to)] }, raw });
    return { where: `SMTP ${new URL(cfg.smtpUrl).host}${info.response ? ` (${info.response.slice(0, 100)})` : ''}` };
  }
  await mkdir(cfg.mailDir, { recursive: true });
  // Written under another name and renamed: a reader never sees half a mail.
  const file = join(cfg.mailDir, `${m.deliveryId}.eml`);
  await writeFile(`${file}.tmp`, raw);
  await rename(`${file}.tmp`, file);
  return { where: file };
}

/** Closes the SMTP connection pool (a process that stops). */
export function closeMail(): void {
  smtp?.transport.close();
  smtp = null;
}
