/**
 * Webhook endpoints and their outbox on SQLite (docs/webhooks.md). `enqueueWebhookEvents` is called
 * inside the transactions that end imports (./processes.ts) and settle confirmations
 * (./confirmations.ts), so an event is stored exactly when its change is.
 */
import type { WebhookEvent } from '../../model/webhook.ts';
import type { Row } from '../common/row-mappers.ts';
import {
  attemptValues, CLAIMABLE_WHERE, CLAIMED_SELECT, ENDPOINT_SUMMARY_SQL, joinEvents, RECORD_ATTEMPT_SQL, RELEASE_ALL_CLAIMS_SQL, RESEND_SQL, SUBSCRIBED_TO_EVENT,
  toClaimed, toDelivery, toEndpoint, toEndpointSummary,
} from '../common/webhook-sql.ts';
import type {
  AttemptOutcome, ClaimedDelivery, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookEndpointSummary, WebhookStore,
} from '../webhooks.ts';
import type { SqliteConnection } from './connection.ts';

/**
 * Writes one pending delivery of `event` for each process and each enabled endpoint of its account
 * subscribed to the event. Call it inside the transaction of the change that makes the event.
 */
export function enqueueWebhookEvents(db: SqliteConnection, event: WebhookEvent, processIds: readonly number[], at = Date.now()): void {
  if (processIds.length === 0) return;
  db.prepare(`
    INSERT INTO webhook_delivery (message_id, endpoint_id, account_id, event, process_id, created_at, retry_since, next_attempt_at)
    SELECT 'msg_' || lower(hex(randomblob(16))), e.id, e.account_id, ?, p.id, ?, ?, ?
    FROM import_process p JOIN webhook_endpoint e ON e.account_id = p.account_id
    WHERE p.id IN (SELECT value FROM json_each(?)) AND e.enabled = 1 AND ${SUBSCRIBED_TO_EVENT}
    ORDER BY p.id, e.id`).run(event, at, at, at, JSON.stringify(processIds), event);
}

export class SqliteWebhooks implements WebhookStore {
  constructor(private readonly db: SqliteConnection) {}

  async addEndpoint(accountId: number, endpoint: NewWebhookEndpoint, maxEndpoints: number): Promise<WebhookEndpoint | null> {
    return this.db.transaction((): WebhookEndpoint | null => {
      const { n } = this.db.prepare('SELECT count(*) AS n FROM webhook_endpoint WHERE account_id = ?').get(accountId) as Row;
      if (Number(n) >= maxEndpoints) return null;
      return toEndpoint(this.db.prepare(`
        INSERT INTO webhook_endpoint (account_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *`)
        .get(accountId, endpoint.url, joinEvents(endpoint.events), endpoint.secret, Date.now()) as Row);
    }).immediate();
  }

  async listEndpoints(accountId: number): Promise<WebhookEndpointSummary[]> {
    return (this.db.prepare(ENDPOINT_SUMMARY_SQL).all(accountId) as Row[]).map(toEndpointSummary);
  }

  async getEndpoint(accountId: number, endpointId: number): Promise<WebhookEndpoint | null> {
    const r = this.db.prepare('SELECT * FROM webhook_endpoint WHERE id = ? AND account_id = ?').get(endpointId, accountId) as Row | undefined;
    return r ? toEndpoint(r) : null;
  }

  async removeEndpoint(accountId: number, endpointId: number): Promise<boolean> {
    // The connection does not enforce foreign keys: the deliveries go first, in the same transaction.
    return this.db.transaction((): boolean => {
      const mine = this.db.prepare('SELECT 1 FROM webhook_endpoint WHERE id = ? AND account_id = ?').get(endpointId, accountId);
      if (mine === undefined) return false;
      this.db.prepare('DELETE FROM webhook_delivery WHERE endpoint_id = ?').run(endpointId);
      this.db.prepare('DELETE FROM webhook_endpoint WHERE id = ?').run(endpointId);
      return true;
    }).immediate();
  }

  async listDeliveries(accountId: number, endpointId: number, options: { limit?: number } = {}): Promise<WebhookDelivery[]> {
    return (this.db.prepare('SELECT * FROM webhook_delivery WHERE endpoint_id = ? AND account_id = ? ORDER BY id DESC LIMIT ?')
      .all(endpointId, accountId, options.limit ?? 50) as Row[]).map(toDelivery);
  }

  async resendDelivery(accountId: number, deliveryId: number, at: Date): Promise<boolean> {
    const t = at.getTime();
    return this.db.prepare(RESEND_SQL).run(t, t, deliveryId, accountId, t).changes === 1;
  }

  async claimDeliveries(owner: string, options: { readonly now: Date; readonly leaseMs: number; readonly limit: number }): Promise<ClaimedDelivery[]> {
    const t = options.now.getTime();
    // Looking first takes no write lock, which the import thread holds for each batch it merges:
    // taken on every poll, the lock made the HTTP thread wait out a batch (about 100 ms) once a
    // second during an import, and GetProcessDetails' p99 under 200 polling clients rose from 5 to
    // 47 ms (bench:load). There is rarely anything due.
    if (this.db.prepare(`SELECT 1 FROM webhook_delivery d WHERE ${CLAIMABLE_WHERE} LIMIT 1`).get(t, t) === undefined) return [];
    return this.db.transaction((): ClaimedDelivery[] => {
      const ids = (this.db.prepare(`
        UPDATE webhook_delivery SET lease_owner = ?, lease_until = ?
        WHERE id IN (SELECT d.id FROM webhook_delivery d WHERE ${CLAIMABLE_WHERE} ORDER BY d.next_attempt_at, d.id LIMIT ?)
        RETURNING id`).all(owner, t + options.leaseMs, t, t, options.limit) as Row[]).map((r) => Number(r.id));
      if (ids.length === 0) return [];
      return (this.db.prepare(`${CLAIMED_SELECT} WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at, d.id`)
        .all(JSON.stringify(ids)) as Row[]).map(toClaimed);
    }).immediate();
  }

  async saveBody(deliveryId: number, body: string): Promise<string> {
    this.db.prepare('UPDATE webhook_delivery SET body = ? WHERE id = ? AND body IS NULL').run(body, deliveryId);
    return String((this.db.prepare('SELECT body FROM webhook_delivery WHERE id = ?').get(deliveryId) as Row).body);
  }

  async recordAttempt(deliveryId: number, owner: string, outcome: AttemptOutcome): Promise<boolean> {
    return this.db.prepare(RECORD_ATTEMPT_SQL).run(...attemptValues(deliveryId, owner, outcome)).changes === 1;
  }

  async releaseAllClaims(): Promise<number> {
    return this.db.prepare(RELEASE_ALL_CLAIMS_SQL).run().changes;
  }
}
