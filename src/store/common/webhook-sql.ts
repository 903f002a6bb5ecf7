/**
 * What both adapters share about webhooks: the rows to records, and the SQL text that is the same
 * in either dialect but for its placeholders (written `?` here; the PostgreSQL adapter numbers
 * them). Times are epoch milliseconds in both schemas.
 */
import type { DeliveryStatus, WebhookEvent } from '../../model/webhook.ts';
import type { AttemptOutcome, ClaimedDelivery, WebhookDelivery, WebhookEndpoint, WebhookEndpointSummary } from '../webhooks.ts';
import { flag, type Row } from './row-mappers.ts';

const time = (v: unknown): Date => new Date(Number(v));
const optionalTime = (v: unknown): Date | null => (v === null || v === undefined ? null : time(v));

/** An endpoint's events are kept as their names joined by commas. */
export const joinEvents = (events: readonly WebhookEvent[]): string => events.join(',');

/**
 * True for the endpoint `e` subscribed to the event bound at the placeholder. Event names hold no
 * comma, `%` or `_`, so the LIKE pattern matches exactly one name.
 */
export const SUBSCRIBED_TO_EVENT = `(',' || e.events || ',') LIKE ('%,' || CAST(? AS TEXT) || ',%')`;

export function toEndpoint(r: Row): WebhookEndpoint {
  return {
    id: Number(r.id), accountId: Number(r.account_id), url: String(r.url),
    events: String(r.events).split(',').filter((e) => e !== '') as WebhookEvent[],
    enabled: flag(r.enabled), createdAt: time(r.created_at),
  };
}

/** Endpoints with their deliveries counted by status (ENDPOINT_SUMMARY_SQL). */
export function toEndpointSummary(r: Row): WebhookEndpointSummary {
  const deliveries: Record<DeliveryStatus, number> = { pending: Number(r.n_pending ?? 0), delivered: Number(r.n_delivered ?? 0), given_up: Number(r.n_given_up ?? 0) };
  return { ...toEndpoint(r), deliveries };
}

export const ENDPOINT_SUMMARY_SQL = `
  SELECT e.*,
    sum(CASE WHEN d.status = 'pending' THEN 1 ELSE 0 END) AS n_pending,
    sum(CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END) AS n_delivered,
    sum(CASE WHEN d.status = 'given_up' THEN 1 ELSE 0 END) AS n_given_up
  FROM webhook_endpoint e LEFT JOIN webhook_delivery d ON d.endpoint_id = e.id
  WHERE e.account_id = ? GROUP BY e.id ORDER BY e.id`;

export function toDelivery(r: Row): WebhookDelivery {
  return {
    id: Number(r.id), messageId: String(r.message_id), endpointId: Number(r.endpoint_id), accountId: Number(r.account_id),
    event: String(r.event) as WebhookEvent, processId: r.process_id === null ? null : Number(r.process_id),
    status: String(r.status) as DeliveryStatus, attempts: Number(r.attempts),
    createdAt: time(r.created_at), retrySince: time(r.retry_since), nextAttemptAt: time(r.next_attempt_at),
    lastAttemptAt: optionalTime(r.last_attempt_at), responseCode: r.response_code === null ? null : Number(r.response_code),
    lastError: r.last_error === null ? null : String(r.last_error), deliveredAt: optionalTime(r.delivered_at),
  };
}

/** A claimed delivery joined with its endpoint (CLAIMED_SQL). */
export function toClaimed(r: Row): ClaimedDelivery {
  return {
    ...toDelivery(r), url: String(r.url), secret: String(r.secret),
    body: r.body === null ? null : String(r.body), leaseOwner: String(r.lease_owner),
  };
}

/** The deliveries claimed by one claim, with their endpoints, in the order they were claimed. */
export const CLAIMED_SELECT = `
  SELECT d.*, e.url, e.secret FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id`;

/**
 * Which pending deliveries a claim may take at `now` (bound twice): due, held by no live lease,
 * and the earliest pending one of their endpoint and import, so each import's events reach an
 * endpoint in order. Oldest due first.
 */
export const CLAIMABLE_WHERE = `
  d.status = 'pending' AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)
  AND NOT EXISTS (
    SELECT 1 FROM webhook_delivery o
    WHERE o.status = 'pending' AND o.endpoint_id = d.endpoint_id AND o.process_id = d.process_id AND o.id < d.id)`;

/** Placeholders: owner, status, last attempt, response code, error, delivered at, next attempt, id, owner. */
export const RECORD_ATTEMPT_SQL = `
  UPDATE webhook_delivery SET lease_owner = NULL, lease_until = NULL, attempts = attempts + 1,
    status = ?, last_attempt_at = ?, response_code = ?, last_error = ?, delivered_at = ?, next_attempt_at = ?
  WHERE id = ? AND lease_owner = ? AND status = 'pending'`;

/** Placeholders: now (next attempt), now (retry since), id, account, now (lease check). */
export const RESEND_SQL = `
  UPDATE webhook_delivery SET status = 'pending', next_attempt_at = ?, retry_since = ?, delivered_at = NULL
  WHERE id = ? AND account_id = ? AND (lease_until IS NULL OR lease_until < ?)`;

export const RELEASE_ALL_CLAIMS_SQL = `
  UPDATE webhook_delivery SET lease_owner = NULL, lease_until = NULL WHERE status = 'pending' AND lease_owner IS NOT NULL`;

/** The parameters of RECORD_ATTEMPT_SQL, from an attempt's outcome. */
export function attemptValues(deliveryId: number, owner: string, o: AttemptOutcome): unknown[] {
  const at = o.at.getTime();
  if (o.delivered) return ['delivered', at, o.responseCode, null, at, at, deliveryId, owner];
  return [o.retryAt === null ? 'given_up' : 'pending', at, o.responseCode, o.error.slice(0, 500), null, o.retryAt?.getTime() ?? at, deliveryId, owner];
}

/** `?` placeholders numbered for PostgreSQL ($1, $2, …). */
export function numbered(sql: string, from = 1): string {
  let n = from - 1;
  return sql.replace(/\?/g, () => `$${++n}`);
}
