/**
 * Webhook endpoints and their outbox on PostgreSQL (docs/webhooks.md). `enqueueWebhookEvents` runs
 * inside the transactions that end imports (./processes.ts) and settle confirmations
 * (./confirmations.ts). Claims take rows `FOR UPDATE SKIP LOCKED` and set a lease in the same
 * statement, so dispatchers on several hosts never claim one delivery twice.
 */
import type pg from 'pg';
import type { WebhookEvent } from '../../model/webhook.ts';
import type { Row } from '../common/row-mappers.ts';
import {
  attemptValues, CLAIMABLE_WHERE, CLAIMED_SELECT, ENDPOINT_SUMMARY_SQL, joinEvents, numbered, RECORD_ATTEMPT_SQL, RELEASE_ALL_CLAIMS_SQL, RESEND_SQL,
  SUBSCRIBED_TO_EVENT, toClaimed, toDelivery, toEndpoint, toEndpointSummary,
} from '../common/webhook-sql.ts';
import type {
  AttemptOutcome, ClaimedDelivery, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookEndpointSummary, WebhookStore,
} from '../webhooks.ts';
import { lockAccount, LOCK } from './locks.ts';
import { inTransaction, queryRow, queryRows } from './pool.ts';

const ENQUEUE_SQL = numbered(`
  INSERT INTO webhook_delivery (message_id, endpoint_id, account_id, event, process_id, created_at, retry_since, next_attempt_at)
  SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, e.account_id, ?::text, p.id, ?::bigint, ?::bigint, ?::bigint
  FROM import_process p JOIN webhook_endpoint e ON e.account_id = p.account_id
  WHERE p.id = ANY(?::bigint[]) AND e.enabled AND ${SUBSCRIBED_TO_EVENT}
  ORDER BY p.id, e.id`);

/**
 * Writes one pending delivery of `event` for each process and each enabled endpoint of its account
 * subscribed to the event, on the transaction's client `c`.
 */
export async function enqueueWebhookEvents(c: pg.ClientBase, event: WebhookEvent, processIds: readonly number[], at = Date.now()): Promise<void> {
  if (processIds.length === 0) return;
  await c.query(ENQUEUE_SQL, [event, at, at, at, [...processIds], event]);
}

const CLAIM_SQL = numbered(`
  WITH due AS (
    SELECT d.id FROM webhook_delivery d WHERE ${CLAIMABLE_WHERE}
    ORDER BY d.next_attempt_at, d.id LIMIT ? FOR UPDATE SKIP LOCKED)
  UPDATE webhook_delivery w SET lease_owner = ?, lease_until = ? FROM due WHERE w.id = due.id
  RETURNING w.id`);

export class PgWebhooks implements WebhookStore {
  constructor(private readonly pool: pg.Pool) {}

  async addEndpoint(accountId: number, endpoint: NewWebhookEndpoint, maxEndpoints: number): Promise<WebhookEndpoint | null> {
    return inTransaction(this.pool, async (c) => {
      // Two adds at once would both count below the limit: they take their turn on the account.
      await lockAccount(c, LOCK.webhooks, accountId);
      const { rows } = await c.query<Row>('SELECT count(*) AS n FROM webhook_endpoint WHERE account_id = $1', [accountId]);
      if (Number(rows[0]!.n) >= maxEndpoints) return null;
      const inserted = await c.query<Row>('INSERT INTO webhook_endpoint (account_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *',
        [accountId, endpoint.url, joinEvents(endpoint.events), endpoint.secret, Date.now()]);
      return toEndpoint(inserted.rows[0]!);
    });
  }

  async listEndpoints(accountId: number): Promise<WebhookEndpointSummary[]> {
    return (await queryRows(this.pool, numbered(ENDPOINT_SUMMARY_SQL), [accountId])).map(toEndpointSummary);
  }

  async getEndpoint(accountId: number, endpointId: number): Promise<WebhookEndpoint | null> {
    const r = await queryRow(this.pool, 'SELECT * FROM webhook_endpoint WHERE id = $1 AND account_id = $2', [endpointId, accountId]);
    return r ? toEndpoint(r) : null;
  }

  async removeEndpoint(accountId: number, endpointId: number): Promise<boolean> {
    // ON DELETE CASCADE takes the endpoint's deliveries with it.
    return ((await this.pool.query('DELETE FROM webhook_endpoint WHERE id = $1 AND account_id = $2', [endpointId, accountId])).rowCount ?? 0) === 1;
  }

  async listDeliveries(accountId: number, endpointId: number, options: { limit?: number } = {}): Promise<WebhookDelivery[]> {
    return (await queryRows(this.pool, 'SELECT * FROM webhook_delivery WHERE endpoint_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT $3',
      [endpointId, accountId, options.limit ?? 50])).map(toDelivery);
  }

  async resendDelivery(accountId: number, deliveryId: number, at: Date): Promise<boolean> {
    const t = at.getTime();
    return ((await this.pool.query(numbered(RESEND_SQL), [t, t, deliveryId, accountId, t])).rowCount ?? 0) === 1;
  }

  async claimDeliveries(owner: string, options: { readonly now: Date; readonly leaseMs: number; readonly limit: number }): Promise<ClaimedDelivery[]> {
    const t = options.now.getTime();
    const ids = (await queryRows(this.pool, CLAIM_SQL, [t, t, options.limit, owner, t + options.leaseMs])).map((r) => Number(r.id));
    if (ids.length === 0) return [];
    return (await queryRows(this.pool, `${CLAIMED_SELECT} WHERE d.id = ANY($1::bigint[]) AND d.lease_owner = $2 ORDER BY d.next_attempt_at, d.id`, [ids, owner]))
      .map(toClaimed);
  }

  async saveBody(deliveryId: number, body: string): Promise<string> {
    await this.pool.query('UPDATE webhook_delivery SET body = $1 WHERE id = $2 AND body IS NULL', [body, deliveryId]);
    return String((await queryRow(this.pool, 'SELECT body FROM webhook_delivery WHERE id = $1', [deliveryId]))!.body);
  }

  async recordAttempt(deliveryId: number, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return ((await this.pool.query(numbered(RECORD_ATTEMPT_SQL), attemptValues(deliveryId, owner, outcome))).rowCount ?? 0) === 1;
  }

  async releaseAllClaims(): Promise<number> {
    return (await this.pool.query(RELEASE_ALL_CLAIMS_SQL)).rowCount ?? 0;
  }
}
