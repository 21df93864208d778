/**
 * A notification mail as RFC 5322 text: the same message goes to the SMTP server and,
 * without one, into `logs/mail/` as an .eml file a developer opens in any mail reader.
 * Plain text in quoted-printable (readable as it is, safe for long lines and any script).
 */
import { formatDate } from '../export.js';
import { getTask } from '../tasks/index.js';
import { offersDownload, STATUS_LABELS, type Job } from '../types.js';

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  deliveryId: string;
}

/** Header text outside ASCII as an RFC 2047 encoded word; CR and LF never reach a header. */
function headerText(s: string): string {
  const clean = s.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

/** Quoted-printable (RFC 2045) of UTF-8 text, lines ending CRLF, soft breaks under 76. */
export function quotedPrintable(text: string): string {
  return text
    .replace(/\r?\n/g, '\n')
    .split('\n')
    .map((line) => {
      let out = '';
      let width = 0;
      const bytes = Buffer.from(line, 'utf8');
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i];
        const last = i === bytes.length - 1;
        const plain = (b >= 33 && b <= 126 && b !== 61) || (b === 32 && !last);
        const piece = plain ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
        if (width + piece.length > 75) {
          out += '=\r\n';
          width = 0;
        }
        out += piece;
        width += piece.length;
      }
      return out;
    })
    .join('\r\n');
}

/** The message as RFC 5322 text. */
export function toRfc5322(m: MailMessage, date = new Date()): string {
  return [
    `From: ${headerText(m.from)}`,
    `To: ${headerText(m.to)}`,
    `Subject: ${headerText(m.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${m.messageId}`,
    `X-Docket-Delivery: ${m.deliveryId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    quotedPrintable(m.text),
    '',
  ].join('\r\n');
}

/** What the mail says: the job, what it was about, its status, times, error or result, links. */
export function jobMail(j: Job, event: string, baseUrl: string): { subject: string; text: string } {
  const title = getTask(j.task)?.title ?? j.task;
  const status = STATUS_LABELS[j.status];
  const happened = event === j.status ? event : `${event} (now ${j.status})`;
  const about = Object.entries(j.params).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const lines = [
    `Job ${j.id}, ${title} (${j.task}), ${happened}.`,
    '',
    `Status:    ${status}`,
    `Owner:     ${j.username ?? 'Command line'}`,
    `Submitted: ${formatDate(j.queuedAt)} UTC`,
    `Started:   ${j.startedAt === null ? 'not started' : `${formatDate(j.startedAt)} UTC`}`,
    `Ended:     ${j.finishedAt === null ? 'not ended' : `${formatDate(j.finishedAt)} UTC`}`,
    `Attempt:   ${j.attempt} of ${j.maxAttempts}`,
  ];
  if (about.length) lines.push('', 'About:', ...about);
  if (j.error) lines.push('', 'Error:', j.error);
  if (j.resultSummary) lines.push('', 'Result:', j.resultSummary);
  if (offersDownload(j)) lines.push('', `Download: ${baseUrl}/api/jobs/${j.id}/download`);
  lines.push('', `Job page: ${baseUrl}/jobs/${j.id}`, '', '-- ', 'Docket. Turn these mails off on the job page or in your profile.');
  return { subject: `[Docket] Job ${j.id} ${title}: ${status}`, text: lines.join('\n') };
}
