/**
 * A real SMTP listener for tests (smtp-server on 127.0.0.1, a free port): it accepts every
 * message and parses it with mailparser, unless `refuse` answers an SMTP error code for a
 * recipient (451 for a transient failure, 550 for a permanent one).
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly mail: ParsedMail;
}

/** The reply code to refuse this recipient with (4xx/5xx), or null to accept. `attempt` counts from 1 per address. */
export type RefusePolicy = (recipient: string, attempt: number) => number | null;

export interface SmtpSink {
  readonly url: string;
  readonly received: ReceivedMail[];
  /** RCPT TO attempts per address (accepted or refused). */
  readonly attempts: Map<string, number>;
  refuse: RefusePolicy;
  /** Resolves when at least `count` messages arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(refuse: RefusePolicy = () => null): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const attempts = new Map<string, number>();
  const sink: SmtpSink = {
    url: '', received, attempts, refuse,
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, the SMTP sink received ${received.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const email = address.address.toLowerCase();
      const attempt = (attempts.get(email) ?? 0) + 1;
      attempts.set(email, attempt);
      const code = sink.refuse(email, attempt);
      if (code === null) return callback();
      callback(Object.assign(new Error(code >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        received.push({
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          mail,
        });
        callback();
      }, (err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  (sink as { url: string }).url = `smtp://127.0.0.1:${port}`;
  return sink;
}
