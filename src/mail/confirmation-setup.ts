/**
 * Builds the double opt-in collaborators from the configuration, once: the mailer (SMTP when
 * SMTP_URL is set, the store's outbox otherwise) and the confirm-link secret. The service and the
 * admin CLI both start from here, so they send the same way and sign links with the same key.
 */
import type { Config } from '../config.ts';
import type { Store } from '../store/store.ts';
import { loadConfirmSecret } from './confirm-token.ts';
import { createOutboxMailer, createSmtpMailer } from './mailer.ts';
import type { Mailer } from './mailer.ts';

export interface RetryPolicy {
  /** Attempts within one Send Now before a transient failure waits for a later one. */
  readonly attemptsPerRun: number;
  /** Pause before the second attempt within a run; doubles with each further attempt. */
  readonly firstDelayMs: number;
  /** How long a transient failure waits before a later Send Now retries it; doubles per attempt made. */
  readonly laterDelayMs: number;
  readonly maxLaterDelayMs: number;
  /** After this many attempts in all, a transient failure is recorded as permanent. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attemptsPerRun: 3, firstDelayMs: 1000, laterDelayMs: 60_000, maxLaterDelayMs: 6 * 3600_000, maxAttempts: 10,
};

export interface MailLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Everything Send Now and the confirm links need (src/core/send-now.ts, confirm-link.ts), built once by the composition root (or the CLI). */
export interface ConfirmationDeps {
  readonly store: Store;
  readonly mailer: Mailer;
  /** The installation's confirm-link secret (loadConfirmSecret). */
  readonly secret: Buffer;
  /** Base URL of confirm links, without a trailing slash (PUBLIC_URL, or the service's own URL). */
  readonly publicUrl: () => string;
  /** How long a confirm link stays valid (CONFIRM_TOKEN_DAYS). */
  readonly tokenTtlMs: number;
  /** From of messages whose confirmation message names no sender (SMTP_FROM). */
  readonly defaultSender: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly now?: () => Date;
  readonly log?: MailLog;
}

export interface MailContextOptions {
  /** The service's own base URL, used for links when PUBLIC_URL is not set; read when a message is built. */
  readonly listenUrl: () => string;
  readonly log?: MailLog;
  readonly retry?: Partial<RetryPolicy>;
}

export type MailConfig = Pick<Config, 'smtpUrl' | 'smtpFrom' | 'smtpRatePerSecond' | 'publicUrl' | 'confirmTokenDays'>;

export async function createMailContext(config: MailConfig, store: Store, options: MailContextOptions): Promise<ConfirmationDeps> {
  const mailer = config.smtpUrl === null
    ? createOutboxMailer(store)
    : createSmtpMailer({ url: config.smtpUrl, envelopeFrom: bareAddress(config.smtpFrom), ratePerSecond: config.smtpRatePerSecond });
  const publicUrl = (): string => config.publicUrl ?? options.listenUrl();
  return {
    store,
    mailer,
    secret: await loadConfirmSecret(store),
    publicUrl,
    tokenTtlMs: config.confirmTokenDays * 24 * 3600_000,
    defaultSender: config.smtpFrom ?? `no-reply@${config.publicUrl === null ? 'localhost' : new URL(config.publicUrl).hostname}`,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
}

/** `Lists <lists@example.com>` → `lists@example.com`, for the SMTP envelope. */
function bareAddress(address: string | null): string | null {
  if (address === null) return null;
  return /<([^<>]+)>\s*$/.exec(address)?.[1] ?? address;
}
