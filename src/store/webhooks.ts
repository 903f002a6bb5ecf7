/**
 * Webhook endpoints and the outbox of their deliveries (docs/webhooks.md). The rows of the outbox
 * are written by the transactions that make the events happen: an import ending
 * (ProcessStore.finishProcess, failProcess, cancelProcess) and a process's confirmation requests
 * all sent (ConfirmationStore.completeConfirmations and the settling of processes). This part keeps
 * the endpoints, and hands due deliveries to a dispatcher under a lease, one at a time per endpoint
 * and import, in the order they were written.
 */
import type { DeliveryStatus, WebhookEvent } from '../model/webhook.ts';

export interface NewWebhookEndpoint {
  readonly url: string;
  readonly events: readonly WebhookEvent[];
  /** The whsec_ secret deliveries are signed with. */
  readonly secret: string;
}

export interface WebhookEndpoint {
  readonly id: number;
  readonly accountId: number;
  readonly url: string;
  readonly events: readonly WebhookEvent[];
  readonly enabled: boolean;
  readonly createdAt: Date;
}

/** An endpoint with how many of its deliveries are in each state. */
export interface WebhookEndpointSummary extends WebhookEndpoint {
  readonly deliveries: Readonly<Record<DeliveryStatus, number>>;
}

export interface WebhookDelivery {
  readonly id: number;
  /** The webhook-id header: the same on every attempt. */
  readonly messageId: string;
  readonly endpointId: number;
  readonly accountId: number;
  readonly event: WebhookEvent;
  /** The import the event is about; deliveries of one endpoint and import go out in order. */
  readonly processId: number | null;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  /** When the event happened. */
  readonly createdAt: Date;
  /** When retries started counting (the event, or the last resend): the retry window runs from here. */
  readonly retrySince: Date;
  readonly nextAttemptAt: Date;
  readonly lastAttemptAt: Date | null;
  /** The HTTP status of the last attempt; null when none answered. */
  readonly responseCode: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: Date | null;
}

/** A delivery a dispatcher has claimed, with what it needs to send it. */
export interface ClaimedDelivery extends WebhookDelivery {
  readonly url: string;
  readonly secret: string;
  /** The body as first rendered; null before the first attempt. */
  readonly body: string | null;
  readonly leaseOwner: string;
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { readonly delivered: true; readonly at: Date; readonly responseCode: number }
  | {
    readonly delivered: false; readonly at: Date; readonly responseCode: number | null; readonly error: string;
    /** When to try again; null gives up. */
    readonly retryAt: Date | null;
  };

export interface WebhookStore {
  /**
   * Adds an endpoint to the account, unless it has `maxEndpoints` already (then null); the count
   * and the insert are one transaction.
   */
  addEndpoint(accountId: number, endpoint: NewWebhookEndpoint, maxEndpoints: number): Promise<WebhookEndpoint | null>;
  /** The account's endpoints, oldest first, with their delivery counts. */
  listEndpoints(accountId: number): Promise<WebhookEndpointSummary[]>;
  getEndpoint(accountId: number, endpointId: number): Promise<WebhookEndpoint | null>;
  /** Removes the account's endpoint and its deliveries; false when it is not the account's. */
  removeEndpoint(accountId: number, endpointId: number): Promise<boolean>;
  /** The endpoint's deliveries, newest first; empty for another account's endpoint. */
  listDeliveries(accountId: number, endpointId: number, options?: { limit?: number }): Promise<WebhookDelivery[]>;
  /**
   * Sends a delivery of the account again: pending from `at`, its retry window starting over,
   * with the same webhook-id and body. False when it is not the account's or is being sent now.
   */
  resendDelivery(accountId: number, deliveryId: number, at: Date): Promise<boolean>;
  /**
   * Claims up to `limit` pending deliveries due at `now` for `owner` until `now + leaseMs`: each
   * the earliest pending one of its endpoint and import, and held by no live lease. On PostgreSQL
   * rows being claimed by another dispatcher are skipped, so one delivery is never claimed twice.
   */
  claimDeliveries(owner: string, options: { readonly now: Date; readonly leaseMs: number; readonly limit: number }): Promise<ClaimedDelivery[]>;
  /**
   * Keeps the body of a claimed delivery, unless one is kept already; returns the kept body (the
   * one every attempt sends).
   */
  saveBody(deliveryId: number, body: string): Promise<string>;
  /** Records an attempt of `owner`'s claimed delivery and ends the claim; false when the claim was lost. */
  recordAttempt(deliveryId: number, owner: string, outcome: AttemptOutcome): Promise<boolean>;
  /**
   * Ends every claim, whoever holds it; answers how many. Only for a process that knows no
   * dispatcher is alive: the embedded server at start-up, holding the SQLite data directory's
   * lock (as ProcessStore.releaseAllLeases), so that deliveries a killed server was sending go out
   * at once. Never on PostgreSQL, whose other workers hold their claims rightly.
   */
  releaseAllClaims(): Promise<number>;
}
