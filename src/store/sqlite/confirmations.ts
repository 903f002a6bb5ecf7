/**
 * Double opt-in on SQLite: confirmation messages, the requests an import queues, Send Now's
 * claims and outcomes (which settle ConfirmationSent on finished processes), confirm links, and
 * the outbox.
 */
import {
  optionalTimestamp, toClaimedConfirmation, toConfirmationFailure, toConfirmationMessage, toConfirmationRequestRow,
  toConfirmationSummary, toOutboxMessage, type Row,
} from '../common/row-mappers.ts';
import { PROCESS_WITH_QUEUE_COLUMNS, UNSENT } from '../common/process-sql.ts';
import { cancelNoLongerPendingSql } from '../common/confirmation-sql.ts';
import type {
  ConfirmationClaim, ConfirmOutcome, ConfirmationFailure, ConfirmationMessage, ConfirmationOutcome, ConfirmationRequestRow,
  ConfirmationStore, ConfirmationSummary, NewConfirmationMessage, NewOutboxMessage, OutboxMessage,
} from '../confirmations.ts';
import { now, type SqliteConnection } from './connection.ts';
import { enqueueWebhookEvents } from './webhooks.ts';

export class SqliteConfirmations implements ConfirmationStore {
  constructor(private readonly db: SqliteConnection) {}

  async createConfirmationMessage(accountId: number, m: NewConfirmationMessage): Promise<number> {
    const r = this.db.prepare(`
      INSERT INTO confirmation_message (account_id, is_default, sender, subject, html, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
      .get(accountId, m.isDefault ? 1 : 0, m.sender, m.subject, m.html, m.text, now()) as Row;
    return Number(r.id);
  }

  async confirmationMessageExists(accountId: number, messageId: number): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM confirmation_message WHERE id = ? AND account_id = ?').get(messageId, accountId) !== undefined;
  }

  async getConfirmationMessage(accountId: number, messageId: number): Promise<ConfirmationMessage | null> {
    const r = (messageId === 0
      ? this.db.prepare('SELECT * FROM confirmation_message WHERE account_id = ? AND is_default = 1 ORDER BY id DESC LIMIT 1').get(accountId)
      : this.db.prepare('SELECT * FROM confirmation_message WHERE account_id = ? AND id = ?').get(accountId, messageId)) as Row | undefined;
    return r ? toConfirmationMessage(r) : null;
  }

  async listConfirmationMessages(accountId: number): Promise<ConfirmationMessage[]> {
    return (this.db.prepare('SELECT * FROM confirmation_message WHERE account_id = ? ORDER BY id').all(accountId) as Row[]).map(toConfirmationMessage);
  }

  async setDefaultConfirmationMessage(accountId: number, messageId: number): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM confirmation_message WHERE account_id = ? AND id = ?').get(accountId, messageId)) return false;
      this.db.prepare('UPDATE confirmation_message SET is_default = (id = ?) WHERE account_id = ?').run(messageId, accountId);
      return true;
    }).immediate();
  }

  async requeueFailedConfirmations(accountId: number, processId: number | null): Promise<number> {
    return this.db.prepare(`
      UPDATE confirmation_request SET status = 'queued', next_attempt_at = NULL
      WHERE account_id = ? AND (? IS NULL OR process_id = ?) AND status = 'failed' AND next_attempt_at IS NULL`)
      .run(accountId, processId, processId).changes;
  }

  async claimConfirmations(
    accountId: number, processId: number | null,
    options: { readonly limit: number; readonly leaseMs: number; readonly now: Date; readonly requestIds?: readonly number[] },
  ): Promise<ConfirmationClaim> {
    const t = options.now.getTime();
    const only = options.requestIds === undefined ? null : JSON.stringify(options.requestIds);
    // Due: queued, a transient failure whose time has come, or a claim whose Send Now died.
    const due = `account_id = @account AND (@process IS NULL OR process_id = @process)
      AND (@only IS NULL OR id IN (SELECT value FROM json_each(@only)))
      AND (status = 'queued' OR (status IN ('failed', 'sending') AND next_attempt_at IS NOT NULL AND next_attempt_at <= @now))`;
    const tx = this.db.transaction(() => {
      const cancelled = this.db.prepare(cancelNoLongerPendingSql(due)).all({ account: accountId, process: processId, now: t, only }) as Row[];
      const settled = this.settleProcesses(new Set(cancelled.map((r) => Number(r.process_id))), options.now);
      const ids = (this.db.prepare(`
        UPDATE confirmation_request SET status = 'sending', next_attempt_at = @until
        WHERE id IN (SELECT id FROM confirmation_request WHERE ${due} ORDER BY recipient_id, list_id, id LIMIT @limit)
        RETURNING id`).all({ account: accountId, process: processId, now: t, only, until: t + options.leaseMs, limit: options.limit }) as Row[])
        .map((r) => Number(r.id));
      const requests = (this.db.prepare(`
        SELECT c.id, c.process_id, c.recipient_id, c.list_id, c.attempts, c.sender, l.name AS list_name, r.email, r.name, r.fields,
          coalesce(json_extract(p.options, '$.idConfirmNL'), 0) AS message_id
        FROM json_each(?) k
        JOIN confirmation_request c ON c.id = k.value
        JOIN recipient r ON r.id = c.recipient_id
        JOIN list l ON l.id = c.list_id
        LEFT JOIN import_process p ON p.id = c.process_id
        ORDER BY c.recipient_id, c.list_id, c.id`).all(JSON.stringify(ids)) as Row[]).map(toClaimedConfirmation);
      const held = this.db.prepare(`
        SELECT count(*) AS n, min(next_attempt_at) AS until FROM confirmation_request
        WHERE account_id = ? AND (? IS NULL OR process_id = ?) AND status = 'sending' AND next_attempt_at > ?
          AND (? IS NULL OR id IN (SELECT value FROM json_each(?)))
          AND id NOT IN (SELECT value FROM json_each(?))`).get(accountId, processId, processId, t, only, only, JSON.stringify(ids)) as Row;
      const heldElsewhere = Number(held.n) === 0 ? null : { requests: Number(held.n), until: new Date(Number(held.until)) };
      return { requests, cancelled: cancelled.length, settled, heldElsewhere };
    });
    return tx.immediate();
  }

  async renewConfirmationClaims(requestIds: readonly number[], until: Date): Promise<number> {
    if (requestIds.length === 0) return 0;
    return this.db.prepare(`
      UPDATE confirmation_request SET next_attempt_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND status = 'sending'`)
      .run(until.getTime(), JSON.stringify(requestIds)).changes;
  }

  async completeConfirmations(requestIds: readonly number[], outcome: ConfirmationOutcome): Promise<number[]> {
    if (requestIds.length === 0) return [];
    const ids = JSON.stringify(requestIds);
    return this.db.transaction(() => {
      const touched = (outcome.status === 'sent'
        ? this.db.prepare(`
            UPDATE confirmation_request SET status = 'sent', sent_at = ?, attempts = attempts + ?, next_attempt_at = NULL, last_error = NULL
            WHERE id IN (SELECT value FROM json_each(?)) RETURNING process_id`).all(outcome.at.toISOString(), outcome.attempts, ids)
        : this.db.prepare(`
            UPDATE confirmation_request SET status = 'failed', last_error = ?, attempts = attempts + ?, next_attempt_at = ?
            WHERE id IN (SELECT value FROM json_each(?)) RETURNING process_id`)
          .all(outcome.error, outcome.attempts, outcome.retryAt === null ? null : outcome.retryAt.getTime(), ids)) as Row[];
      return outcome.status === 'sent' ? this.settleProcesses(new Set(touched.map((r) => Number(r.process_id))), outcome.at) : [];
    }).immediate();
  }

  async settleConfirmationProcesses(accountId: number, processId: number | null, at: Date): Promise<number[]> {
    return this.db.transaction(() => {
      const candidates = (this.db.prepare(`
        SELECT id FROM import_process WHERE account_id = ? AND (? IS NULL OR id = ?) AND status IN (3, 4)
          AND confirmation_sent_at IS NULL AND json_extract(options, '$.ConfirmEmail') = 1`)
        .all(accountId, processId, processId) as Row[]).map((r) => Number(r.id));
      return this.settleProcesses(new Set(candidates), at);
    }).immediate();
  }

  /**
   * ConfirmationSent becomes True for finished processes that asked for ConfirmEmail and have no
   * unsent request left. Runs inside the transaction that changed the last request.
   */
  private settleProcesses(processIds: ReadonlySet<number>, at: Date): number[] {
    if (processIds.size === 0) return [];
    const settled = (this.db.prepare(`
      UPDATE import_process SET confirmation_sent_at = ?
      WHERE id IN (SELECT value FROM json_each(?)) AND status IN (3, 4) AND confirmation_sent_at IS NULL
        AND json_extract(options, '$.ConfirmEmail') = 1
        AND NOT EXISTS (SELECT 1 FROM confirmation_request c WHERE c.process_id = import_process.id AND c.status IN ${UNSENT})
      RETURNING id`).all(at.toISOString(), JSON.stringify([...processIds])) as Row[]).map((r) => Number(r.id));
    // One confirmations.sent per process, stored with the change (docs/webhooks.md).
    enqueueWebhookEvents(this.db, 'confirmations.sent', settled.sort((a, b) => a - b));
    return settled;
  }

  async pendingConfirmations(accountId: number, processId: number): Promise<number> {
    const r = this.db.prepare(`SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.id = ? AND p.account_id = ?`).get(processId, accountId) as Row | undefined;
    return r ? Number(r.confirmations_pending) : 0;
  }

  async confirmationSummary(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationSummary[]> {
    const rows = this.db.prepare(`
      SELECT p.id, p.list_id, p.status AS process_status, p.confirmation_sent_at, count(c.id) AS requests,
        sum(c.status = 'queued') AS queued, sum(c.status = 'sending') AS sending, sum(c.status = 'sent') AS sent,
        sum(c.status = 'failed' AND c.next_attempt_at IS NOT NULL) AS retrying,
        sum(c.status = 'failed' AND c.next_attempt_at IS NULL) AS failed,
        sum(c.status = 'cancelled') AS cancelled, sum(c.confirmed_at IS NOT NULL) AS confirmed
      FROM import_process p LEFT JOIN confirmation_request c ON c.process_id = p.id
      WHERE p.account_id = ? AND (? IS NULL OR p.id = ?) AND json_extract(p.options, '$.ConfirmEmail') = 1
      GROUP BY p.id ORDER BY p.id DESC LIMIT ?`).all(accountId, processId, processId, options.limit ?? -1) as Row[];
    return rows.map(toConfirmationSummary);
  }

  async confirmationFailures(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationFailure[]> {
    const rows = this.db.prepare(`
      SELECT c.id, c.process_id, c.list_id, c.attempts, c.last_error, c.next_attempt_at, r.email
      FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = ? AND (? IS NULL OR c.process_id = ?) AND c.status = 'failed'
      ORDER BY c.id DESC LIMIT ?`).all(accountId, processId, processId, options.limit ?? -1) as Row[];
    return rows.map(toConfirmationFailure);
  }

  async listConfirmationRequests(
    accountId: number, processId: number | null, options: { limit?: number; offset?: number } = {},
  ): Promise<ConfirmationRequestRow[]> {
    const rows = this.db.prepare(`
      SELECT c.*, r.email FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = ? AND (? IS NULL OR c.process_id = ?) ORDER BY c.id LIMIT ? OFFSET ?`)
      .all(accountId, processId, processId, options.limit ?? 100, options.offset ?? 0) as Row[];
    return rows.map(toConfirmationRequestRow);
  }

  async confirmSubscription(requestId: number, recipientId: number, listId: number, at: Date): Promise<ConfirmOutcome> {
    return this.db.transaction((): ConfirmOutcome => {
      const request = this.db.prepare(`
        SELECT c.confirmed_at, r.email, l.name AS list_name FROM confirmation_request c
        JOIN recipient r ON r.id = c.recipient_id JOIN list l ON l.id = c.list_id
        WHERE c.id = ? AND c.recipient_id = ? AND c.list_id = ?`).get(requestId, recipientId, listId) as Row | undefined;
      if (!request) return { result: 'not-found', email: null, listName: null, confirmedAt: null };
      const who = { email: request.email as string | null, listName: String(request.list_name) };
      if (request.confirmed_at !== null) return { result: 'already-confirmed', ...who, confirmedAt: optionalTimestamp(request.confirmed_at) };
      const subscription = this.db.prepare(`
        SELECT email_status AS status FROM subscription WHERE list_id = ? AND recipient_id = ? AND email_status IS NOT NULL`).get(listId, recipientId) as Row | undefined;
      if (!subscription) return { result: 'not-found', ...who, confirmedAt: null };
      if (subscription.status === 'unsubscribed') return { result: 'unsubscribed', ...who, confirmedAt: null };
      if (subscription.status === 'subscribed') return { result: 'already-subscribed', ...who, confirmedAt: null };
      const t = at.toISOString();
      this.db.prepare(`
        UPDATE subscription SET email_status = 'subscribed', email_reason = NULL, email_confirmed_at = ?, email_updated_at = ?
        WHERE list_id = ? AND recipient_id = ? AND email_status = 'pending'`).run(t, t, listId, recipientId);
      // A request queued for several lists at once confirms the others where the recipient still waits.
      this.db.prepare(`
        UPDATE subscription SET email_status = 'subscribed', email_reason = NULL, email_confirmed_at = ?, email_updated_at = ?
        WHERE recipient_id = ? AND email_status = 'pending'
          AND list_id IN (SELECT value FROM json_each((SELECT also_list_ids FROM confirmation_request WHERE id = ?)))`).run(t, t, recipientId, requestId);
      // Every request already delivered for this recipient and list asked the same question: all are answered.
      this.db.prepare(`
        UPDATE confirmation_request SET confirmed_at = ?
        WHERE recipient_id = ? AND list_id = ? AND confirmed_at IS NULL AND (id = ? OR status = 'sent')`).run(t, recipientId, listId, requestId);
      return { result: 'confirmed', ...who, confirmedAt: at };
    }).immediate();
  }

  async writeOutbox(entry: NewOutboxMessage): Promise<number> {
    return this.db.transaction(() => {
      const written = this.db.prepare(`
        INSERT INTO outbox (account_id, request_id, sender, recipient, subject, html, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING id`)
        .get(entry.accountId, entry.requestId, entry.sender, entry.recipient, entry.subject, entry.html, entry.text, now()) as Row | undefined;
      if (written) return Number(written.id);
      return Number((this.db.prepare('SELECT id FROM outbox WHERE request_id = ?').get(entry.requestId) as Row).id);
    }).immediate();
  }

  async listOutbox(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<OutboxMessage[]> {
    return (this.db.prepare('SELECT * FROM outbox WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?')
      .all(accountId, options.limit ?? 50, options.offset ?? 0) as Row[]).map(toOutboxMessage);
  }
}
