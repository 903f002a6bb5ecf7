/**
 * Double opt-in on PostgreSQL: confirmation messages, the requests an import queued, Send Now's
 * claims and outcomes, confirm links, and the outbox. Whatever changes an account's subscribers or
 * settles its processes takes the account's subscribers lock first (locks.ts), as a batch merge
 * does, so a claim, a completion and a confirm click take their turn as in SQLite.
 */
import type pg from 'pg';
import {
  optionalTimestamp, toClaimedConfirmation, toConfirmationFailure, toConfirmationMessage, toConfirmationRequestRow,
  toConfirmationSummary, toOutboxMessage, type Row,
} from '../common/row-mappers.ts';
import { PROCESS_WITH_QUEUE_COLUMNS, UNSENT } from '../common/process-sql.ts';
import { cancelNoLongerPendingSql } from '../common/confirmation-sql.ts';
import type {
  ConfirmationClaim, ConfirmationFailure, ConfirmationMessage, ConfirmationOutcome, ConfirmationRequestRow, ConfirmationStore,
  ConfirmationSummary, ConfirmOutcome, NewConfirmationMessage, NewOutboxMessage, OutboxMessage,
} from '../confirmations.ts';
import { lockAccount, LOCK } from './locks.ts';
import { inTransaction, queryRow, queryRows } from './pool.ts';
import { enqueueWebhookEvents } from './webhooks.ts';

/** ImportOptions.ConfirmEmail, as SQLite's json_extract(options, '$.ConfirmEmail') = 1. */
const ASKS_CONFIRMATION = `(p.options ->> 'ConfirmEmail') = 'true'`;

export class PgConfirmations implements ConfirmationStore {
  constructor(private readonly pool: pg.Pool) {}

  async createConfirmationMessage(accountId: number, m: NewConfirmationMessage): Promise<number> {
    const r = await queryRow(this.pool,
      'INSERT INTO confirmation_message (account_id, is_default, sender, subject, html, text) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [accountId, m.isDefault, m.sender, m.subject, m.html, m.text],
    );
    return Number(r!.id);
  }

  async confirmationMessageExists(accountId: number, messageId: number): Promise<boolean> {
    return (await queryRow(this.pool, 'SELECT 1 FROM confirmation_message WHERE id = $1 AND account_id = $2', [messageId, accountId])) !== null;
  }

  async getConfirmationMessage(accountId: number, messageId: number): Promise<ConfirmationMessage | null> {
    const r = messageId === 0
      ? await queryRow(this.pool, 'SELECT * FROM confirmation_message WHERE account_id = $1 AND is_default ORDER BY id DESC LIMIT 1', [accountId])
      : await queryRow(this.pool, 'SELECT * FROM confirmation_message WHERE account_id = $1 AND id = $2', [accountId, messageId]);
    return r ? toConfirmationMessage(r) : null;
  }

  async listConfirmationMessages(accountId: number): Promise<ConfirmationMessage[]> {
    return (await queryRows(this.pool, 'SELECT * FROM confirmation_message WHERE account_id = $1 ORDER BY id', [accountId])).map(toConfirmationMessage);
  }

  async setDefaultConfirmationMessage(accountId: number, messageId: number): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      const own = await c.query('SELECT 1 FROM confirmation_message WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, messageId]);
      if (own.rowCount !== 1) return false;
      await c.query('UPDATE confirmation_message SET is_default = (id = $1) WHERE account_id = $2', [messageId, accountId]);
      return true;
    });
  }

  async requeueFailedConfirmations(accountId: number, processId: number | null): Promise<number> {
    const r = await this.pool.query(`
      UPDATE confirmation_request SET status = 'queued', next_attempt_at = NULL
      WHERE account_id = $1 AND ($2::bigint IS NULL OR process_id = $2) AND status = 'failed' AND next_attempt_at IS NULL`,
    [accountId, processId]);
    return r.rowCount ?? 0;
  }

  async claimConfirmations(
    accountId: number, processId: number | null,
    options: { readonly limit: number; readonly leaseMs: number; readonly now: Date; readonly requestIds?: readonly number[] },
  ): Promise<ConfirmationClaim> {
    const t = options.now.getTime();
    const only = options.requestIds === undefined ? null : [...options.requestIds];
    // Due: queued, a transient failure whose time has come, or a claim whose Send Now died.
    const due = `account_id = $1 AND ($2::bigint IS NULL OR process_id = $2) AND ($4::bigint[] IS NULL OR id = ANY($4::bigint[]))
      AND (status = 'queued' OR (status IN ('failed', 'sending') AND next_attempt_at IS NOT NULL AND next_attempt_at <= $3))`;
    return inTransaction(this.pool, async (c) => {
      await lockAccount(c, LOCK.subscribers, accountId);
      const cancelled = (await c.query<Row>(cancelNoLongerPendingSql(due), [accountId, processId, t, only])).rows;
      const settled = await this.settleProcesses(c, new Set(cancelled.map((r) => Number(r.process_id))), options.now);
      const ids = (await c.query<Row>(`
        UPDATE confirmation_request SET status = 'sending', next_attempt_at = $5
        WHERE id IN (SELECT id FROM confirmation_request WHERE ${due} ORDER BY recipient_id, list_id, id LIMIT $6)
        RETURNING id`, [accountId, processId, t, only, t + options.leaseMs, options.limit])).rows.map((r) => Number(r.id));
      const requests = (await c.query<Row>(`
        SELECT c.id, c.process_id, c.recipient_id, c.list_id, c.attempts, c.sender, l.name AS list_name, r.email, r.name, r.fields,
          coalesce((p.options ->> 'idConfirmNL')::bigint, 0) AS message_id
        FROM confirmation_request c
        JOIN recipient r ON r.id = c.recipient_id
        JOIN list l ON l.id = c.list_id
        LEFT JOIN import_process p ON p.id = c.process_id
        WHERE c.id = ANY($1::bigint[])
        ORDER BY c.recipient_id, c.list_id, c.id`, [ids])).rows.map(toClaimedConfirmation);
      const held = (await c.query<Row>(`
        SELECT count(*) AS n, min(next_attempt_at) AS until FROM confirmation_request
        WHERE account_id = $1 AND ($2::bigint IS NULL OR process_id = $2) AND status = 'sending' AND next_attempt_at > $3
          AND ($5::bigint[] IS NULL OR id = ANY($5::bigint[]))
          AND NOT (id = ANY($4::bigint[]))`, [accountId, processId, t, ids, only])).rows[0]!;
      const heldElsewhere = Number(held.n) === 0 ? null : { requests: Number(held.n), until: new Date(Number(held.until)) };
      return { requests, cancelled: cancelled.length, settled, heldElsewhere };
    });
  }

  async renewConfirmationClaims(requestIds: readonly number[], until: Date): Promise<number> {
    if (requestIds.length === 0) return 0;
    const r = await this.pool.query(`
      UPDATE confirmation_request SET next_attempt_at = $1 WHERE id = ANY($2::bigint[]) AND status = 'sending'`, [until.getTime(), requestIds]);
    return r.rowCount ?? 0;
  }

  async completeConfirmations(requestIds: readonly number[], outcome: ConfirmationOutcome): Promise<number[]> {
    if (requestIds.length === 0) return [];
    return inTransaction(this.pool, async (c) => {
      // Two Send Nows finishing the last requests of one process at once must not both miss the
      // moment it is settled: completions of an account take their turn, as in SQLite.
      const accounts = (await c.query<Row>('SELECT DISTINCT account_id FROM confirmation_request WHERE id = ANY($1::bigint[]) ORDER BY account_id',
        [requestIds])).rows.map((r) => Number(r.account_id));
      for (const accountId of accounts) await lockAccount(c, LOCK.subscribers, accountId);
      const touched = outcome.status === 'sent'
        ? await c.query<Row>(`
            UPDATE confirmation_request SET status = 'sent', sent_at = $1, attempts = attempts + $2, next_attempt_at = NULL, last_error = NULL
            WHERE id = ANY($3::bigint[]) RETURNING process_id`, [outcome.at, outcome.attempts, requestIds])
        : await c.query<Row>(`
            UPDATE confirmation_request SET status = 'failed', last_error = $1, attempts = attempts + $2, next_attempt_at = $3
            WHERE id = ANY($4::bigint[]) RETURNING process_id`,
          [outcome.error, outcome.attempts, outcome.retryAt === null ? null : outcome.retryAt.getTime(), requestIds]);
      return outcome.status === 'sent' ? this.settleProcesses(c, new Set(touched.rows.map((r) => Number(r.process_id))), outcome.at) : [];
    });
  }

  async settleConfirmationProcesses(accountId: number, processId: number | null, at: Date): Promise<number[]> {
    return inTransaction(this.pool, async (c) => {
      await lockAccount(c, LOCK.subscribers, accountId);
      const candidates = (await c.query<Row>(`
        SELECT p.id FROM import_process p WHERE p.account_id = $1 AND ($2::bigint IS NULL OR p.id = $2) AND p.status IN (3, 4)
          AND p.confirmation_sent_at IS NULL AND ${ASKS_CONFIRMATION}`, [accountId, processId])).rows.map((r) => Number(r.id));
      return this.settleProcesses(c, new Set(candidates), at);
    });
  }

  /**
   * ConfirmationSent becomes True for finished processes that asked for ConfirmEmail and have no
   * unsent request left. Runs inside the transaction that changed the last request.
   */
  private async settleProcesses(c: pg.ClientBase, processIds: ReadonlySet<number>, at: Date): Promise<number[]> {
    if (processIds.size === 0) return [];
    const settled = (await c.query<Row>(`
      UPDATE import_process p SET confirmation_sent_at = $1
      WHERE p.id = ANY($2::bigint[]) AND p.status IN (3, 4) AND p.confirmation_sent_at IS NULL AND ${ASKS_CONFIRMATION}
        AND NOT EXISTS (SELECT 1 FROM confirmation_request c WHERE c.process_id = p.id AND c.status IN ${UNSENT})
      RETURNING p.id`, [at, [...processIds]])).rows.map((r) => Number(r.id));
    // One confirmations.sent per process, stored with the change (docs/webhooks.md).
    await enqueueWebhookEvents(c, 'confirmations.sent', settled.sort((a, b) => a - b));
    return settled;
  }

  async pendingConfirmations(accountId: number, processId: number): Promise<number> {
    const rows = await queryRows(this.pool, `SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.id = $1 AND p.account_id = $2`, [processId, accountId]);
    return rows[0] ? Number(rows[0].confirmations_pending) : 0;
  }

  async confirmationSummary(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationSummary[]> {
    const rows = await queryRows(this.pool, `
      SELECT p.id, p.list_id, p.status AS process_status, p.confirmation_sent_at, count(c.id) AS requests,
        count(*) FILTER (WHERE c.status = 'queued') AS queued, count(*) FILTER (WHERE c.status = 'sending') AS sending,
        count(*) FILTER (WHERE c.status = 'sent') AS sent,
        count(*) FILTER (WHERE c.status = 'failed' AND c.next_attempt_at IS NOT NULL) AS retrying,
        count(*) FILTER (WHERE c.status = 'failed' AND c.next_attempt_at IS NULL) AS failed,
        count(*) FILTER (WHERE c.status = 'cancelled') AS cancelled, count(*) FILTER (WHERE c.confirmed_at IS NOT NULL) AS confirmed
      FROM import_process p LEFT JOIN confirmation_request c ON c.process_id = p.id
      WHERE p.account_id = $1 AND ($2::bigint IS NULL OR p.id = $2) AND ${ASKS_CONFIRMATION}
      GROUP BY p.id ORDER BY p.id DESC LIMIT $3`, [accountId, processId, options.limit ?? null]);
    return rows.map(toConfirmationSummary);
  }

  async confirmationFailures(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationFailure[]> {
    const rows = await queryRows(this.pool, `
      SELECT c.id, c.process_id, c.list_id, c.attempts, c.last_error, c.next_attempt_at, r.email
      FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = $1 AND ($2::bigint IS NULL OR c.process_id = $2) AND c.status = 'failed'
      ORDER BY c.id DESC LIMIT $3`, [accountId, processId, options.limit ?? null]);
    return rows.map(toConfirmationFailure);
  }

  async listConfirmationRequests(
    accountId: number, processId: number | null, options: { limit?: number; offset?: number } = {},
  ): Promise<ConfirmationRequestRow[]> {
    const rows = await queryRows(this.pool, `
      SELECT c.*, r.email FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = $1 AND ($2::bigint IS NULL OR c.process_id = $2) ORDER BY c.id LIMIT $3 OFFSET $4`,
    [accountId, processId, options.limit ?? 100, options.offset ?? 0]);
    return rows.map(toConfirmationRequestRow);
  }

  async confirmSubscription(requestId: number, recipientId: number, listId: number, at: Date): Promise<ConfirmOutcome> {
    return inTransaction(this.pool, async (c): Promise<ConfirmOutcome> => {
      const owner = (await c.query<Row>('SELECT account_id FROM confirmation_request WHERE id = $1', [requestId])).rows[0];
      if (owner) await lockAccount(c, LOCK.subscribers, Number(owner.account_id));
      const request = (await c.query<Row>(`
        SELECT c.confirmed_at, r.email, l.name AS list_name FROM confirmation_request c
        JOIN recipient r ON r.id = c.recipient_id JOIN list l ON l.id = c.list_id
        WHERE c.id = $1 AND c.recipient_id = $2 AND c.list_id = $3`, [requestId, recipientId, listId])).rows[0];
      if (!request) return { result: 'not-found', email: null, listName: null, confirmedAt: null };
      const who = { email: request.email as string | null, listName: String(request.list_name) };
      if (request.confirmed_at !== null) return { result: 'already-confirmed', ...who, confirmedAt: optionalTimestamp(request.confirmed_at) };
      const subscription = (await c.query<Row>(`
        SELECT email_status AS status FROM subscription WHERE list_id = $1 AND recipient_id = $2 AND email_status IS NOT NULL`, [listId, recipientId])).rows[0];
      if (!subscription) return { result: 'not-found', ...who, confirmedAt: null };
      if (subscription.status === 'unsubscribed') return { result: 'unsubscribed', ...who, confirmedAt: null };
      if (subscription.status === 'subscribed') return { result: 'already-subscribed', ...who, confirmedAt: null };
      await c.query(`
        UPDATE subscription SET email_status = 'subscribed', email_reason = NULL, email_confirmed_at = $1, email_updated_at = $1
        WHERE recipient_id = $2 AND list_id = $3 AND email_status = 'pending'`, [at, recipientId, listId]);
      // A request queued for several lists at once confirms the others where the recipient still waits.
      await c.query(`
        UPDATE subscription SET email_status = 'subscribed', email_reason = NULL, email_confirmed_at = $1, email_updated_at = $1
        WHERE recipient_id = $2 AND email_status = 'pending'
          AND list_id IN (SELECT jsonb_array_elements_text(also_list_ids)::bigint FROM confirmation_request WHERE id = $3)`, [at, recipientId, requestId]);
      // Every request already delivered for this recipient and list asked the same question: all are answered.
      await c.query(`
        UPDATE confirmation_request SET confirmed_at = $1
        WHERE recipient_id = $2 AND list_id = $3 AND confirmed_at IS NULL AND (id = $4 OR status = 'sent')`, [at, recipientId, listId, requestId]);
      return { result: 'confirmed', ...who, confirmedAt: at };
    });
  }

  async writeOutbox(entry: NewOutboxMessage): Promise<number> {
    const written = await queryRow(this.pool, `
      INSERT INTO outbox (account_id, request_id, sender, recipient, subject, html, text) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING id`,
    [entry.accountId, entry.requestId, entry.sender, entry.recipient, entry.subject, entry.html, entry.text]);
    if (written) return Number(written.id);
    return Number((await queryRow(this.pool, 'SELECT id FROM outbox WHERE request_id = $1', [entry.requestId]))!.id);
  }

  async listOutbox(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<OutboxMessage[]> {
    return (await queryRows(this.pool, 'SELECT * FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3',
      [accountId, options.limit ?? 50, options.offset ?? 0])).map(toOutboxMessage);
  }
}
