/**
 * One recipient at a time on PostgreSQL (../recipients.ts). A change takes the account's
 * subscribers lock (locks.ts) before it reads anything, as a batch merge, Send Now's claims and a
 * confirm click do, so it never interleaves with them; the statements are SQLite's, in this dialect.
 */
import type pg from 'pg';
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
import { lockAccount, LOCK } from './locks.ts';
import { cannotBeStored, inTransaction, queryRow, queryRows } from './pool.ts';

export class PgRecipients implements RecipientStore {
  constructor(private readonly pool: pg.Pool) {}

  async findListById(listId: number): Promise<MailingList | null> {
    const r = await queryRow(this.pool, 'SELECT * FROM list WHERE id = $1', [listId]);
    return r ? toList(r) : null;
  }

  async getRecipient(accountId: number, key: RecipientKey): Promise<RecipientState | null> {
    if (unstorableKey(key)) return null;
    return inTransaction(this.pool, (c) => readState(c, accountId, key));
  }

  async applyRecipientChange<T>(
    accountId: number, key: RecipientKey, plan: (prior: RecipientState | null) => PlannedChange<T>,
  ): Promise<AppliedChange<T>> {
    return inTransaction(this.pool, async (c): Promise<AppliedChange<T>> => {
      await lockAccount(c, LOCK.subscribers, accountId);
      const prior = unstorableKey(key) ? null : await readState(c, accountId, key);
      const planned = plan(prior);
      const found = prior?.recipient.id ?? null;
      if (planned.write === null) return { ok: true, answer: planned.answer, recipientId: found, created: false, requestIds: [] };
      const written = await write(c, accountId, found, prior?.recipient.email ?? null, planned.write);
      if (written === 'email-taken') return { ok: false, reason: 'email-taken' };
      return { ok: true, answer: planned.answer, recipientId: written.id, created: found === null, requestIds: written.requestIds };
    });
  }

  async removeRecipient(accountId: number, recipientId: number): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      await lockAccount(c, LOCK.subscribers, accountId);
      const own = await c.query('SELECT 1 FROM recipient WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, recipientId]);
      if (own.rowCount !== 1) return false;
      await c.query('UPDATE outbox SET request_id = NULL WHERE request_id IN (SELECT id FROM confirmation_request WHERE recipient_id = $1)', [recipientId]);
      await c.query('DELETE FROM confirmation_request WHERE recipient_id = $1', [recipientId]);
      await c.query('DELETE FROM membership WHERE recipient_id = $1', [recipientId]);
      await c.query('DELETE FROM subscription WHERE recipient_id = $1', [recipientId]);
      await c.query('DELETE FROM recipient WHERE id = $1', [recipientId]);
      return true;
    });
  }

  async recipientGroups(accountId: number, recipientId: number, listId: number): Promise<Group[]> {
    return (await queryRows(this.pool, `
      SELECT g.* FROM membership m
      JOIN recipient r ON r.id = m.recipient_id
      JOIN "group" g ON g.id = m.group_id
      JOIN list l ON l.id = g.list_id
      WHERE m.recipient_id = $1 AND r.account_id = $2 AND g.list_id = $3 AND l.account_id = $2
      ORDER BY g.id`, [recipientId, accountId, listId])).map(toGroup);
  }

  async listRecipients(accountId: number, scope: RecipientScope, query: RecipientListQuery): Promise<RecipientPage | null> {
    // One snapshot for the count and the page.
    return inTransaction(this.pool, async (c): Promise<RecipientPage | null> => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const owner = 'groupId' in scope
        ? (await c.query<Row>('SELECT g.list_id FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2', [scope.groupId, accountId])).rows[0]?.list_id
        : (await c.query<Row>('SELECT id FROM list WHERE id = $1 AND account_id = $2', [scope.listId, accountId])).rows[0]?.id;
      if (owner === undefined) return null;
      // A value PostgreSQL cannot hold matches no stored text.
      if (query.filter.some((f) => typeof f.value === 'string' && cannotBeStored(f.value))) return { total: 0, items: [] };
      const count = dialect();
      const total = Number((await c.query<Row>(`SELECT count(*) AS n ${listingFromWhere(count, accountId, scope, query.filter)}`, count.values)).rows[0]!.n);
      const page = dialect();
      const sql = `SELECT r.* ${listingFromWhere(page, accountId, scope, query.filter)} ${listingOrderBy(page, query.order)} LIMIT ${page.param(query.limit)} OFFSET ${page.param(query.offset)}`;
      const recipients = (await c.query<Row>(sql, page.values)).rows;
      const subscriptions = recipients.length === 0 ? [] : (await c.query<Row>(`
        SELECT s.recipient_id, ${SUBSCRIPTION_COLUMNS} FROM subscription_channel s
        WHERE s.list_id = $1 AND s.recipient_id = ANY($2::bigint[])`, [owner, recipients.map((r) => Number(r.id))])).rows;
      return { total, items: toListItems(recipients, subscriptions) };
    });
  }
}

/** A key holding U+0000 names nobody: PostgreSQL cannot even compare such a value. */
const unstorableKey = (key: RecipientKey): boolean =>
  ('email' in key && cannotBeStored(key.email)) || ('mobile' in key && cannotBeStored(key.mobile));

async function readState(c: pg.ClientBase, accountId: number, key: RecipientKey): Promise<RecipientState | null> {
  const row = ('id' in key
    ? await c.query<Row>('SELECT * FROM recipient WHERE account_id = $1 AND id = $2', [accountId, key.id])
    : 'email' in key
      ? await c.query<Row>('SELECT * FROM recipient WHERE account_id = $1 AND email = $2', [accountId, key.email])
      // The oldest recipient with the number, as an import's lookup by mobile picks.
      : await c.query<Row>('SELECT * FROM recipient WHERE account_id = $1 AND mobile = $2 ORDER BY id LIMIT 1', [accountId, key.mobile])).rows[0];
  if (!row) return null;
  const subscriptions = (await c.query<Row>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscription_channel s WHERE s.recipient_id = $1`, [row.id])).rows;
  const groups = (await c.query<Row>('SELECT group_id FROM membership WHERE recipient_id = $1', [row.id])).rows.map((g) => g.group_id);
  return toRecipientState(row, subscriptions, groups);
}

async function write(
  c: pg.ClientBase, accountId: number, found: number | null, priorEmail: string | null, w: RecipientWritePlan,
): Promise<{ id: number; requestIds: number[] } | 'email-taken'> {
  const { data } = w;
  if (data.email !== undefined && data.email !== null && data.email !== priorEmail) {
    const holder = (await c.query<Row>('SELECT id FROM recipient WHERE account_id = $1 AND email = $2', [accountId, data.email])).rows[0];
    if (holder && Number(holder.id) !== found) return 'email-taken';
  }
  let id: number;
  if (found === null) {
    id = Number((await c.query<Row>(`
      INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at) VALUES ($1, $2, $3, $4, $5::jsonb, now(), now()) RETURNING id`,
    [accountId, data.email ?? null, data.mobile ?? null, data.name ?? null, JSON.stringify(dropEmpty(data.fields ?? {}))])).rows[0]!.id);
  } else {
    id = found;
    const sets = ['updated_at = now()'];
    const values: unknown[] = [];
    const set = (column: string, value: unknown, cast = ''): void => {
      values.push(value);
      sets.push(`${column} = $${values.length}${cast}`);
    };
    if (data.email !== undefined) set('email', data.email);
    if (data.mobile !== undefined) set('mobile', data.mobile);
    if (data.name !== undefined) set('name', data.name);
    if (data.fields !== undefined && Object.keys(data.fields).length > 0) {
      values.push(JSON.stringify(data.fields));
      sets.push(`fields = fields || $${values.length}::jsonb`);
    }
    await c.query(`UPDATE recipient SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
  }
  if (w.leaveLists.length > 0) {
    await c.query('DELETE FROM subscription WHERE recipient_id = $1 AND list_id = ANY($2::bigint[])', [id, w.leaveLists]);
    await c.query(`DELETE FROM membership WHERE recipient_id = $1 AND group_id IN (SELECT id FROM "group" WHERE list_id = ANY($2::bigint[]))`, [id, w.leaveLists]);
  }
  for (const s of w.subscriptions) {
    await c.query(upsertChannelSql(s.channel, ['$1', '$2', '$3', '$4', 'now()', '$5', '$6']),
      [s.listId, id, s.status, s.reason, s.requestIp ?? null, s.requestIp !== undefined]);
  }
  if (w.leaveGroups.length > 0) await c.query('DELETE FROM membership WHERE recipient_id = $1 AND group_id = ANY($2::bigint[])', [id, w.leaveGroups]);
  if (w.joinGroups.length > 0) {
    await c.query('INSERT INTO membership (recipient_id, group_id) SELECT $1, g FROM unnest($2::bigint[]) AS g ON CONFLICT DO NOTHING', [id, [...new Set(w.joinGroups)]]);
  }
  const requestIds: number[] = [];
  for (const q of w.confirmations) {
    requestIds.push(Number((await c.query<Row>(`
      INSERT INTO confirmation_request (account_id, process_id, recipient_id, list_id, created_at, sender, also_list_ids)
      VALUES ($1, NULL, $2, $3, now(), $4, $5::jsonb) RETURNING id`,
    [accountId, id, q.listId, q.sender, q.alsoListIds.length === 0 ? null : JSON.stringify(q.alsoListIds)])).rows[0]!.id));
  }
  return { id, requestIds };
}

/** PostgreSQL's side of a listing's SQL: numbered parameters, ->>, strpos, and COLLATE "C" for SQLite's bytewise order. */
function dialect(): ListingDialect & { values: unknown[] } {
  const values: unknown[] = [];
  return {
    values,
    param: (value) => {
      values.push(value);
      return `$${values.length}`;
    },
    field: (n) => `(r.fields ->> '${n}')`,
    contains: (expr, needle) => `strpos(${expr}, ${needle}) > 0`,
    bytewise: (expr) => `(${expr}) COLLATE "C"`,
  };
}
