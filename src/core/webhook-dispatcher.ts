/**
 * The webhook dispatcher (docs/webhooks.md): runs in every process that runs an import worker and
 * POSTs the outbox's due deliveries (src/store/webhooks.ts), signed as the Standard Webhooks
 * specification says.
 *
 * - At least once: a delivery stays pending until an endpoint answers 2xx, so a crash between the
 *   POST and its record sends it again (same webhook-id, for the receiver to drop duplicates).
 * - In order per import: the store hands out only the earliest pending delivery of an endpoint and
 *   import, so `import.completed` reaches an endpoint before that import's `confirmations.sent`.
 * - One sender at a time: a claim is a lease (on PostgreSQL taken with SKIP LOCKED), longer than
 *   a POST may take, so dispatchers on several hosts never send one delivery at once.
 * - The body is rendered at the first attempt and kept, so every retry sends the same bytes; the
 *   signature (which covers the time of sending) is made for each attempt.
 * - Retries back off exponentially with jitter from `retryFirstDelayMs`, up to an hour apart, and
 *   stop `retryWindowMs` (24 h) after the event: the delivery is then given up.
 */
import { Webhook } from 'standardwebhooks';
import type { WebhookEvent } from '../model/webhook.ts';
import type { AttemptOutcome, ClaimedDelivery } from '../store/webhooks.ts';
import type { Store } from '../store/store.ts';
import { importDetails } from './import-details.ts';

export interface DispatcherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  readonly store: Store;
  readonly log: DispatcherLog;
  /** Names this dispatcher's leases (host, pid and a random part). */
  readonly owner: string;
  /** How long one POST may take before it counts as failed. */
  readonly timeoutMs: number;
  /** How often an idle dispatcher looks for due deliveries (it is also woken directly). */
  readonly pollMs: number;
  /** The pause after the first failed attempt; each further one doubles it (with jitter). */
  readonly retryFirstDelayMs: number;
  /** How long after the event (or a resend) retries go on before the delivery is given up. */
  readonly retryWindowMs: number;
}

/** The longest pause between two attempts. */
const MAX_RETRY_DELAY_MS = 3_600_000;
/** Deliveries claimed per pass; they are sent at once (each to its own endpoint and import). */
const CLAIM_LIMIT = 20;
/** Bytes of an endpoint's answer read (and dropped) before the connection is let go. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The payload every delivery carries (the Standard Webhooks payload convention). */
export interface WebhookPayload {
  readonly type: WebhookEvent;
  /** When the event happened (ISO 8601, UTC). */
  readonly timestamp: string;
  readonly data: unknown;
}

/** The pause before the attempt after `attempts` failed ones: doubling from `first`, capped, ±25 % jitter. */
export function retryDelay(attempts: number, first: number, random = Math.random): number {
  const base = Math.min(first * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
  return Math.round(base * (0.75 + random() * 0.5));
}

export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  /** Aborts the POSTs in flight when the service stops. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: DispatcherOptions) {}

  /** How long a claim lasts: longer than a POST and its record can take. */
  private get leaseMs(): number {
    return 2 * this.options.timeoutMs + 5000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Looks for due deliveries now instead of at the next poll (an import has just ended). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops after the current pass; POSTs in flight are cut and recorded as failed, to be retried. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.dispatchDue();
      } catch (err) {
        this.options.log.error({ err }, 'webhook dispatch failed; trying again at the next poll');
      }
      // A full page means more may be due: go on at once.
      if (sent < CLAIM_LIMIT) await this.idle();
    }
  }

  private async idle(): Promise<void> {
    if (this.woken || !this.running) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.options.pollMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
    this.wakeUp = null;
    this.woken = false;
  }

  /** Claims the due deliveries and sends them; answers how many it claimed. */
  async dispatchDue(): Promise<number> {
    const claimed = await this.options.store.webhooks.claimDeliveries(this.options.owner, { now: new Date(), leaseMs: this.leaseMs, limit: CLAIM_LIMIT });
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const { store, log } = this.options;
    try {
      const body = d.body ?? await store.webhooks.saveBody(d.id, JSON.stringify(await this.render(d)));
      const outcome = await this.post(d, body);
      if (!await store.webhooks.recordAttempt(d.id, this.options.owner, outcome)) {
        log.warn({ deliveryId: d.id }, 'webhook delivery claim was lost before its attempt was recorded');
      } else if (!outcome.delivered) {
        log.warn({ deliveryId: d.id, endpointId: d.endpointId, event: d.event, responseCode: outcome.responseCode, error: outcome.error, retryAt: outcome.retryAt },
          outcome.retryAt === null ? 'webhook delivery given up' : 'webhook delivery failed; will retry');
      }
    } catch (err) {
      // The store failed: the lease runs out and the delivery is claimed again.
      log.error({ err, deliveryId: d.id }, 'webhook delivery could not be recorded');
    }
  }

  /** The body of a delivery: its event, when it happened, and the import's details as the JSON API answers them. */
  private async render(d: ClaimedDelivery): Promise<WebhookPayload> {
    const details = d.processId === null ? null : await importDetails(this.options.store, d.accountId, d.processId);
    return { type: d.event, timestamp: d.createdAt.toISOString(), data: details ?? { idProcess: d.processId } };
  }

  private async post(d: ClaimedDelivery, body: string): Promise<AttemptOutcome> {
    const sentAt = new Date();
    let responseCode: number | null = null;
    let error: string;
    try {
      const signature = new Webhook(d.secret).sign(d.messageId, sentAt, body);
      const response = await fetch(d.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'mailup-import-server webhooks',
          'webhook-id': d.messageId,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopping.signal]),
      });
      responseCode = response.status;
      await drain(response);
      if (response.status >= 200 && response.status < 300) return { delivered: true, at: new Date(), responseCode };
      error = `the endpoint answered ${response.status}`;
    } catch (err) {
      error = describeFailure(err, this.options.timeoutMs, this.stopping.signal.aborted);
    }
    const at = new Date();
    // Cut by the shutdown: not the endpoint's fault, so the next dispatcher tries at once.
    if (this.stopping.signal.aborted) return { delivered: false, at, responseCode, error, retryAt: at };
    const deadline = d.retrySince.getTime() + this.options.retryWindowMs;
    const next = Math.min(at.getTime() + retryDelay(d.attempts + 1, this.options.retryFirstDelayMs), deadline);
    return { delivered: false, at, responseCode, error, retryAt: at.getTime() >= deadline ? null : new Date(next) };
  }
}

/** Reads (and drops) at most MAX_ANSWER_BYTES of the answer, so the connection can be reused or closed. */
async function drain(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_ANSWER_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The answer's status is what counts; a body cut short changes nothing.
  }
}

function describeFailure(err: unknown, timeoutMs: number, stopping: boolean): string {
  if (stopping) return 'the service stopped during the attempt';
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message ?? 'request failed'} (${cause})` : (e?.message ?? String(err));
}
