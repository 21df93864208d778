/**
 * Mail over SMTP_URL, received by a real SMTP server on loopback (the smtp-server package)
 * and read back with a real mail parser: what the owner of a job gets when it ends.
 */
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Context } from '../../app/context.js';
import { closeMail } from '../../app/notify/mail-send.js';
import { Notifier } from '../../app/notify/notifier.js';
import { listEvents } from '../../app/store/jobs.js';
import { setProfile } from '../../app/store/user-profile.js';
import { createUser } from '../../app/store/users.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

interface Received {
  from: string;
  to: string[];
  mail: ParsedMail;
}

/** An SMTP server on a free loopback port that keeps what it receives. */
async function smtpServer(): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            mail,
          });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`mail over SMTP on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let smtp: Awaited<ReturnType<typeof smtpServer>>;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      smtp = await smtpServer();
      env = await makeTestEnv(backend, {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        DOCKET_MAIL_FROM: 'Docket <docket@archives.example.org>',
        DOCKET_BASE_URL: 'https://docket.example.org',
        DOCKET_NOTIFY_BACKOFF_MS: '20',
      });
      ctx = await env.context();
    });

    after(async () => {
      closeMail();
      await smtp?.close();
      await env?.cleanup();
    });

    it('sends the owner a mail the server receives and parses, naming the job, its end and its page', async () => {
      const user = await createUser(ctx.db, `mailme${Date.now()}`, 'a-long-password', 'admin');
      await setProfile(ctx.db, { id: user.id }, { email: 'mailme@archives.example.org' });
      const { job } = await ctx.service.enqueue({ task: 'noop', user, origin: 'api', notify: true });
      const [claimed] = await ctx.service.claimMany([job.id], 'test-worker');
      expect(await ctx.service.fail(claimed, 'test-worker', { message: 'the file has no header', unrecoverable: true })).to.equal('failed');

      const notifier = new Notifier(ctx.db, env.config, ctx.log, 'test-smtp');
      expect(await notifier.sweep()).to.equal(1);
      expect(smtp.received).to.have.length(1);
      const { from, to, mail } = smtp.received[0];
      expect(from).to.equal('docket@archives.example.org');
      expect(to).to.deep.equal(['mailme@archives.example.org']);
      expect(mail.subject).to.equal(`[Docket] Job ${job.id} No-op: Error`);
      expect(mail.text).to.include(`Job ${job.id}, No-op (noop), failed.`);
      expect(mail.text).to.include('the file has no header');
      expect(mail.text).to.include(`https://docket.example.org/jobs/${job.id}`);
      expect(mail.messageId).to.match(new RegExp(`^<docket\\.${job.id}\\.`));

      const notified = (await listEvents(ctx.db, job.id)).filter((e) => e.type === 'notified');
      expect(notified.map((e) => e.message).join('\n')).to.include('SMTP 127.0.0.1');
      // Sent once: another sweep finds nothing due.
      expect(await notifier.sweep()).to.equal(0);
      expect(smtp.received).to.have.length(1);
    });
  });
}
