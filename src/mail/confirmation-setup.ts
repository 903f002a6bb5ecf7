/**
 * Builds the double opt-in collaborators from the configuration, once: the mailer (SMTP when
 * SMTP_URL is set, the store's outbox otherwise) and the confirm-link secret. The service and the
 * admin CLI both start from here, so they send the same way and sign links with the same key.
 */
import type { Config } from '../config.ts';
import type { Store } from '../store/store.ts';
import { loadConfirmSecret } from './confirm-token.ts';
import { createOutboxMailer, createSmtpMailer } from './mailer.ts';
import type { ConfirmationDeps, MailLog, RetryPolicy } from './send-now.ts';

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
