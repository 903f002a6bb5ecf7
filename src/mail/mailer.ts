/**
 * Where confirmation messages go: one interface, two implementations.
 *
 * - SMTP (SMTP_URL set): a pooled nodemailer transport, rate-limited to SMTP_RATE_PER_SECOND.
 * - Outbox (no SMTP_URL, the embedded default): every message is written to the store's outbox,
 *   readable with the admin CLI, so nothing is ever dropped for want of a mail server.
 *
 * A failed delivery throws DeliveryError, which says whether trying again may help: an SMTP 5xx
 * reply is permanent; a 4xx reply or a connection problem is transient.
 */
import nodemailer from 'nodemailer';
import type { Store } from '../store/store.ts';

export interface OutgoingMail {
  readonly accountId: number;
  /** The confirmation request the message answers, kept with an outbox entry. */
  readonly requestId: number | null;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export type DeliveryChannel = 'smtp' | 'outbox';

export interface Mailer {
  readonly channel: DeliveryChannel;
  /** Hands the message over (to the SMTP server, or to the outbox); throws DeliveryError when it cannot. */
  deliver(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(message: string, readonly permanent: boolean, readonly responseCode: number | null = null) {
    super(message);
  }
}

interface SmtpFailure {
  readonly message?: string;
  readonly code?: string;
  readonly responseCode?: number;
  readonly permanent?: boolean;
  readonly response?: string;
}

/**
 * Why trying again may or may not help. RFC 5321: 5yz replies are permanent, 4yz transient; 503
 * (bad sequence) is a session problem, not a verdict on the message. Errors with no reply at all
 * (connection refused, timeouts, TLS, authentication, configuration) are transient: they concern
 * the server, not this recipient, and the next Send Now may find it fixed.
 */
export function classifySmtpError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SmtpFailure;
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const text = (e.response ?? e.message ?? 'unknown error').trim();
  const message = code !== null && !text.startsWith(String(code)) ? `${code} ${text}` : text;
  const permanent = e.permanent ?? (code !== null && code >= 500 && code !== 503);
  // Refused before any SMTP exchange because the message itself cannot be sent (no valid recipient).
  const unsendable = code === null && (e.code === 'EENVELOPE' || e.code === 'EMAXRECIPIENTS');
  return new DeliveryError(message, permanent || unsendable, code);
}

export interface SmtpOptions {
  /** smtp://user:pass@host:port or smtps://… */
  readonly url: string;
  /** Envelope sender (bounces go there); the message's From when null. */
  readonly envelopeFrom: string | null;
  /** Messages per second; 0 for no limit. */
  readonly ratePerSecond: number;
  readonly maxConnections?: number;
}

export function createSmtpMailer(options: SmtpOptions): Mailer {
  const transport = nodemailer.createTransport({
    url: options.url,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    ...(options.ratePerSecond > 0 ? { rateDelta: 1000, rateLimit: options.ratePerSecond } : {}),
  });
  return {
    channel: 'smtp',
    async deliver(mail) {
      try {
        await transport.sendMail({
          from: mail.from, to: mail.to, subject: mail.subject, html: mail.html, text: mail.text,
          ...(options.envelopeFrom ? { envelope: { from: options.envelopeFrom, to: mail.to } } : {}),
          // Out-of-office replies and the like must not answer an automatic message (RFC 3834).
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** Writes every message to the store's outbox; one entry per request, however often it is retried. */
export function createOutboxMailer(store: Store): Mailer {
  return {
    channel: 'outbox',
    async deliver(mail) {
      try {
        await store.confirmations.writeOutbox({
          accountId: mail.accountId, requestId: mail.requestId, sender: mail.from, recipient: mail.to,
          subject: mail.subject, html: mail.html, text: mail.text,
        });
      } catch (err) {
        // The store will most likely work again on the next attempt; the message stays queued.
        throw new DeliveryError(`writing to the outbox failed: ${err instanceof Error ? err.message : String(err)}`, false);
      }
    },
    async close() {},
  };
}
