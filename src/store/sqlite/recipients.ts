/**
 * One recipient at a time on SQLite (../recipients.ts). A change runs in one IMMEDIATE
 * transaction: it holds the database's write lock from its first read, so the import thread's
 * batch merges and Send Now's claims wait for it, and it for them.
 */
import { dropEmpty } from '../common/batch-keys.ts';
import {
  listingFromWhere, listingOrderBy, SUBSCRIPTION_COLUMNS, toListItems, toRecipientState, type ListingDialect,
} from '../common/recipient-rows.ts';
import { toGroup, toList, type Row } from '../common/row-mappers.ts';
import { upsertChannelSql } from '../common/subscription-sql.ts';
import type {
  AppliedChange, PlannedChange, RecipientKey, RecipientListQuery, RecipientPage, RecipientScope, RecipientState, RecipientStore,
  RecipientWritePlan,
} from '../recipients.ts';
import type { Group, MailingList } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';

export class SqliteRecipients implements RecipientStore {
  constructor(private readonly db: SqliteConnection) {}

  async findListById(listId: number): Promise<MailingList | null> {
    const r = this.db.prepare('SELECT * FROM list WHERE id = ?').get(listId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async getRecipient(accountId: number, key: RecipientKey): Promise<RecipientState | null> {
    return this.db.transaction(() => this.readState(accountId, key))();
  }

  /** The recipient `key` names, with its subscriptions and groups (inside the caller's transaction). */
  private readState(accountId: number, key: RecipientKey): RecipientState | null {
    const row = ('id' in key
      ? this.db.prepare('SELECT * FROM recipient WHERE account_id = ? AND id = ?').get(accountId, key.id)
      : 'email' in key
        ? this.db.prepare('SELECT * FROM recipient WHERE account_id = ? AND email = ?').get(accountId, key.email)
        // The oldest recipient with the number, as an import's lookup by mobile picks.
        : this.db.prepare('SELECT * FROM recipient WHERE account_id = ? AND mobile = ? ORDER BY id LIMIT 1').get(accountId, key.mobile)) as Row | undefined;
    if (!row) return null;
    const subscriptions = this.db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscription_channel s WHERE s.recipient_id = ?`).all(row.id) as Row[];
    const groups = (this.db.prepare('SELECT group_id FROM membership WHERE recipient_id = ?').all(row.id) as Row[]).map((g) => g.group_id);
    return toRecipientState(row, subscriptions, groups);
  }

  async applyRecipientChange<T>(
    accountId: number, key: RecipientKey, plan: (prior: RecipientState | null) => PlannedChange<T>,
  ): Promise<AppliedChange<T>> {
    const tx = this.db.transaction((): AppliedChange<T> => {
      const prior = this.readState(accountId, key);
      const planned = plan(prior);
      const found = prior?.recipient.id ?? null;
      if (planned.write === null) return { ok: true, answer: planned.answer, recipientId: found, created: false, requestIds: [] };
      const written = this.write(accountId, found, prior?.recipient.email ?? null, planned.write);
      if (written === 'email-taken') return { ok: false, reason: 'email-taken' };
      return { ok: true, answer: planned.answer, recipientId: written.id, created: found === null, requestIds: written.requestIds };
    });
    return tx.immediate();
  }

  private write(accountId: number, found: number | null, priorEmail: string | null, w: RecipientWritePlan): { id: number; requestIds: number[] } | 'email-taken' {
    const t = now();
    const { data } = w;
    if (data.email !== undefined && data.email !== null && data.email !== priorEmail) {
      const holder = this.db.prepare('SELECT id FROM recipient WHERE account_id = ? AND email = ?').get(accountId, data.email) as Row | undefined;
      if (holder && Number(holder.id) !== found) return 'email-taken';
    }
    let id: number;
    if (found === null) {
      id = Number((this.db.prepare(`
        INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
        .get(accountId, data.email ?? null, data.mobile ?? null, data.name ?? null, JSON.stringify(dropEmpty(data.fields ?? {})), t, t) as Row).id);
    } else {
      id = found;
      const sets = ['updated_at = ?'];
      const values: unknown[] = [t];
      const set = (column: string, value: unknown): void => {
        sets.push(`${column} = ?`);
        values.push(value);
      };
      if (data.email !== undefined) set('email', data.email);
      if (data.mobile !== undefined) set('mobile', data.mobile);
      if (data.name !== undefined) set('name', data.name);
      if (data.fields !== undefined && Object.keys(data.fields).length > 0) {
        sets.push('fields = json_patch(fields, ?)');
        values.push(JSON.stringify(data.fields));
      }
      this.db.prepare(`UPDATE recipient SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    }
    if (w.leaveLists.length > 0) {
      const lists = JSON.stringify(w.leaveLists);
      this.db.prepare('DELETE FROM subscription WHERE recipient_id = ? AND list_id IN (SELECT value FROM json_each(?))').run(id, lists);
      this.db.prepare(`DELETE FROM membership WHERE recipient_id = ?
        AND group_id IN (SELECT id FROM "group" WHERE list_id IN (SELECT value FROM json_each(?)))`).run(id, lists);
    }
    for (const s of w.subscriptions) {
      this.db.prepare(upsertChannelSql(s.channel, ['?', '?', '?', '?', '?', '?', '?']))
        .run(s.listId, id, s.status, s.reason, t, s.requestIp ?? null, s.requestIp === undefined ? 0 : 1);
    }
    if (w.leaveGroups.length > 0) {
      this.db.prepare('DELETE FROM membership WHERE recipient_id = ? AND group_id IN (SELECT value FROM json_each(?))').run(id, JSON.stringify(w.leaveGroups));
    }
    if (w.joinGroups.length > 0) {
      this.db.prepare('INSERT OR IGNORE INTO membership (recipient_id, group_id) SELECT ?, value FROM json_each(?)').run(id, JSON.stringify(w.joinGroups));
    }
    const requestIds = w.confirmations.map((c) => Number((this.db.prepare(`
      INSERT INTO confirmation_request (account_id, process_id, recipient_id, list_id, created_at, sender, also_list_ids)
      VALUES (?, NULL, ?, ?, ?, ?, ?) RETURNING id`)
      .get(accountId, id, c.listId, t, c.sender, c.alsoListIds.length === 0 ? null : JSON.stringify(c.alsoListIds)) as Row).id));
    return { id, requestIds };
  }

  async removeRecipient(accountId: number, recipientId: number): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM recipient WHERE account_id = ? AND id = ?').get(accountId, recipientId)) return false;
      this.db.prepare('UPDATE outbox SET request_id = NULL WHERE request_id IN (SELECT id FROM confirmation_request WHERE recipient_id = ?)').run(recipientId);
      this.db.prepare('DELETE FROM confirmation_request WHERE recipient_id = ?').run(recipientId);
      this.db.prepare('DELETE FROM membership WHERE recipient_id = ?').run(recipientId);
      this.db.prepare('DELETE FROM subscription WHERE recipient_id = ?').run(recipientId);
      this.db.prepare('DELETE FROM recipient WHERE id = ?').run(recipientId);
      return true;
    }).immediate();
  }

  async recipientGroups(accountId: number, recipientId: number, listId: number): Promise<Group[]> {
    return (this.db.prepare(`
      SELECT g.* FROM membership m
      JOIN recipient r ON r.id = m.recipient_id
      JOIN "group" g ON g.id = m.group_id
      JOIN list l ON l.id = g.list_id
      WHERE m.recipient_id = ? AND r.account_id = ? AND g.list_id = ? AND l.account_id = ?
      ORDER BY g.id`).all(recipientId, accountId, listId, accountId) as Row[]).map(toGroup);
  }

  async listRecipients(accountId: number, scope: RecipientScope, query: RecipientListQuery): Promise<RecipientPage | null> {
    return this.db.transaction((): RecipientPage | null => {
      const listId = 'groupId' in scope
        ? (this.db.prepare('SELECT g.list_id FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
          .get(scope.groupId, accountId) as Row | undefined)?.list_id
        : (this.db.prepare('SELECT id FROM list WHERE id = ? AND account_id = ?').get(scope.listId, accountId) as Row | undefined)?.id;
      if (listId === undefined) return null;
      const count = dialect();
      const total = Number((this.db.prepare(`SELECT count(*) AS n ${listingFromWhere(count, accountId, scope, query.filter)}`)
        .get(...count.values) as Row).n);
      const page = dialect();
      const sql = `SELECT r.* ${listingFromWhere(page, accountId, scope, query.filter)} ${listingOrderBy(page, query.order)} LIMIT ${page.param(query.limit)} OFFSET ${page.param(query.offset)}`;
      const recipients = this.db.prepare(sql).all(...page.values) as Row[];
      const subscriptions = recipients.length === 0 ? [] : this.db.prepare(`
        SELECT s.recipient_id, ${SUBSCRIPTION_COLUMNS} FROM subscription_channel s
        WHERE s.list_id = ? AND s.recipient_id IN (SELECT value FROM json_each(?))`).all(listId, JSON.stringify(recipients.map((r) => r.id))) as Row[];
      return { total, items: toListItems(recipients, subscriptions) };
    })();
  }
}

/** SQLite's side of a listing's SQL: `?` parameters in order, json_extract, instr; text orders bytewise already. */
function dialect(): ListingDialect & { values: unknown[] } {
  const values: unknown[] = [];
  return {
    values,
    param: (value) => {
      values.push(value);
      return '?';
    },
    field: (n) => `json_extract(r.fields, '$."${n}"')`,
    contains: (expr, needle) => `instr(${expr}, ${needle}) > 0`,
    bytewise: (expr) => expr,
  };
}
