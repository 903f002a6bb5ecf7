/**
 * The console's read-only views on PostgreSQL: processes, list statistics, recipient search and
 * detail, list exports, reject reports and the outbox. Pages are keyset paged; reads that must
 * agree run in one snapshot, and streamed reads in one snapshot of their own (snapshot.ts).
 */
import type pg from 'pg';
import { toChannelCounts, toGroup, toListExportRow, toOutboxMessage, toProcessWithQueue, toRecipientConfirmation, toRecipientDetail,
  toRecipientImport, toRecipientSubscription, toRejectRow, type Row,
} from '../common/row-mappers.ts';
import { PROCESS_WITH_QUEUE_COLUMNS } from '../common/process-sql.ts';
import { channelCountColumns, rareStatusHint, statusColumn, subscriptionMatch } from '../common/subscription-sql.ts';
import { newestFirstPage } from '../common/newest-first.ts';
import { searchRecipients, type RecipientSearchEngine } from '../common/recipient-search.ts';
import type { OutboxMessage } from '../confirmations.ts';
import type {
  KeysetPage, ListExport, ListStats, ProcessPageQuery, QueryStore, RecipientDetail, RecipientFilter, RecipientPageQuery, RecipientSummary,
} from '../queries.ts';
import type { RejectReportRow } from '../../model/batch.ts';
import type { ProcessWithQueue } from '../../model/records.ts';
import { getList } from './lists.ts';
import { cannotBeStored, queryRow, queryRows } from './pool.ts';
import { inSnapshot, SnapshotReader } from './snapshot.ts';

export class PgQueries implements QueryStore {
  constructor(private readonly pool: pg.Pool) {}

  async consoleProcesses(accountId: number, query: ProcessPageQuery): Promise<KeysetPage<ProcessWithQueue>> {
    const status = { all: null, waiting: 1, running: 2, completed: 3, failed: 4 }[query.status];
    return newestFirstPage(query, (cursor, backward, limit) => queryRows(this.pool, `
      SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p
      WHERE p.account_id = $1 AND ($2::smallint IS NULL OR p.status = $2)
        AND ($3::bigint[] IS NULL OR p.list_id = ANY($3::bigint[]))
        ${cursor === null ? '' : backward ? 'AND p.id > $5' : 'AND p.id < $5'}
      ORDER BY p.id ${backward ? 'ASC' : 'DESC'} LIMIT $4`,
    [accountId, status, query.listIds === null ? null : [...query.listIds], limit, ...(cursor === null ? [] : [cursor])]), toProcessWithQueue);
  }

  async listStats(accountId: number, listIds: readonly number[], options: { readonly groups?: boolean } = {}): Promise<ListStats[]> {
    // One snapshot, so the list's and its groups' counts agree with each other.
    return inSnapshot(this.pool, async (c) => {
      const lists = (await c.query<Row>('SELECT id FROM list WHERE account_id = $1 AND id = ANY($2::bigint[]) ORDER BY id', [accountId, [...listIds]]))
        .rows.map((r) => Number(r.id));
      const out: ListStats[] = [];
      for (const listId of lists) {
        // One pass over the list's rows: a row per recipient, both channels in it.
        const list = (await c.query<Row>(`SELECT ${channelCountColumns('s')} FROM subscription s WHERE s.list_id = $1`, [listId])).rows[0]!;
        const groups: ListStats['groups'][number][] = [];
        // Without `groups`, no group is read at all (the console's list index): its counts are the dear part.
        const groupRows = options.groups === false ? [] : (await c.query<Row>('SELECT id FROM "group" WHERE list_id = $1 ORDER BY id', [listId])).rows;
        for (const g of groupRows) {
          const members = Number((await c.query<Row>('SELECT count(*) AS n FROM membership WHERE group_id = $1', [g.id])).rows[0]!.n);
          const byGroup = (await c.query<Row>(`
            SELECT ${channelCountColumns('s')} FROM membership m
            JOIN subscription s ON s.list_id = $1 AND s.recipient_id = m.recipient_id
            WHERE m.group_id = $2`, [listId, g.id])).rows[0]!;
          groups.push({ groupId: Number(g.id), members, counts: toChannelCounts(byGroup) });
        }
        out.push({ listId, counts: toChannelCounts(list), recipients: Number(list.recipients), groups });
      }
      return out;
    });
  }

  async searchRecipients(accountId: number, filter: RecipientFilter, page: RecipientPageQuery): Promise<KeysetPage<RecipientSummary>> {
    if (cannotBeStored(filter.emailPrefix ?? '') || cannotBeStored(filter.mobilePrefix ?? '')) return { items: [], hasNext: false, hasPrevious: false };
    return searchRecipients(accountId, filter, page, this.recipientSearch);
  }

  /** The recipient search's SQL; what to run, and the paging, are decided in common/recipient-search.ts. */
  private readonly recipientSearch: RecipientSearchEngine = {
    groupList: async (accountId, groupId) => {
      const group = await queryRow(this.pool, 'SELECT g.list_id FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2',
        [groupId, accountId]);
      return group ? Number(group.list_id) : null;
    },
    hasList: async (accountId, listId) => (await getList(this.pool, accountId, listId)) !== null,
    fetch: async ({ drive, match, checks }, cursor, backward, limit) => {
      /** One statement, its parameters numbered as `p` meets them. */
      const all = (sql: (p: (v: unknown) => string) => string): Promise<Row[]> => {
        const values: unknown[] = [];
        return queryRows(this.pool, sql((v) => `$${values.push(v)}`), values);
      };
      // As in SQLite, the first page's SQL leaves the cursor condition out rather than making it always true.
      const [op, order] = backward ? ['<', 'DESC'] : ['>', 'ASC'];
      const check = (p: (v: unknown) => string): string => {
        const out: string[] = [];
        if (checks.membership) out.push(`EXISTS (SELECT 1 FROM membership m WHERE m.recipient_id = r.id AND m.group_id = ${p(match.groupId)})`);
        if (checks.subscription) {
          const conditions = [subscriptionMatch('s', match.channel, match.status === null ? null : p(match.status))];
          if (match.listId !== null) conditions.push(`s.list_id = ${p(match.listId)}`);
          out.push(`EXISTS (SELECT 1 FROM subscription s WHERE s.recipient_id = r.id AND ${conditions.join(' AND ')})`);
        }
        return out.map((c) => ` AND ${c}`).join('');
      };
      switch (drive.by) {
        // Strings starting with the prefix: bytewise (the columns' C collation), as SQLite compares them.
        case 'email': return all((p) => `
          SELECT r.id, r.email FROM recipient r
          WHERE r.account_id = ${p(match.accountId)} AND r.email IS NOT NULL AND r.email >= ${p(drive.lo)} AND r.email < ${p(drive.hi)}
            ${cursor === null ? '' : `AND r.email ${op} ${p(cursor[1])}`}${check(p)}
          ORDER BY r.email ${order} LIMIT ${p(limit)}`);
        case 'mobile': return all((p) => `
          SELECT r.id, r.mobile FROM recipient r
          WHERE r.account_id = ${p(match.accountId)} AND r.mobile IS NOT NULL AND r.mobile >= ${p(drive.lo)} AND r.mobile < ${p(drive.hi)}
            ${cursor === null ? '' : `AND (r.mobile, r.id) ${op} (${p(cursor[1])}::text, ${p(cursor[2])}::bigint)`}${check(p)}
          ORDER BY r.mobile ${order}, r.id ${order} LIMIT ${p(limit)}`);
        case 'group': return all((p) => `
          SELECT m.recipient_id AS id FROM membership m JOIN recipient r ON r.id = m.recipient_id
          WHERE m.group_id = ${p(match.groupId)} ${cursor === null ? '' : `AND m.recipient_id ${op} ${p(cursor[1])}`}${check(p)}
          ORDER BY m.recipient_id ${order} LIMIT ${p(limit)}`);
        case 'list': return all((p) => `
          SELECT s.recipient_id AS id FROM subscription s
          WHERE s.list_id = ${p(match.listId)} AND ${subscriptionMatch('s', match.channel, null)}
            ${cursor === null ? '' : `AND s.recipient_id ${op} ${p(cursor[1])}`}
          ORDER BY s.recipient_id ${order} LIMIT ${p(limit)}`);
        case 'listStatus': {
          const rows: Row[] = [];
          for (const c of drive.channels) {
            rows.push(...await all((p) => `
              SELECT s.recipient_id AS id FROM subscription s
              WHERE s.list_id = ${p(match.listId)} AND ${statusColumn('s', c)} = ${p(match.status)}${rareStatusHint('s', c, match.status)}
                ${cursor === null ? '' : `AND s.recipient_id ${op} ${p(cursor[1])}`}
              ORDER BY s.recipient_id ${order} LIMIT ${p(limit)}`));
          }
          return rows;
        }
        case 'account': return all((p) => `
          SELECT r.id FROM recipient r
          WHERE r.account_id = ${p(match.accountId)} ${cursor === null ? '' : `AND r.id ${op} ${p(cursor[1])}`}${check(p)}
          ORDER BY r.id ${order} LIMIT ${p(limit)}`);
      }
    },
    load: async (ids) => ({
      people: await queryRows(this.pool, 'SELECT id, email, mobile, name FROM recipient WHERE id = ANY($1::bigint[])', [ids]),
      subscriptions: await queryRows(this.pool, `
        SELECT recipient_id, list_id, channel, status FROM subscription_channel WHERE recipient_id = ANY($1::bigint[]) ORDER BY list_id, channel`, [ids]),
    }),
  };

  async recipientDetail(accountId: number, recipientId: number): Promise<RecipientDetail | null> {
    return inSnapshot(this.pool, async (c): Promise<RecipientDetail | null> => {
      const r = (await c.query<Row>('SELECT * FROM recipient WHERE id = $1 AND account_id = $2', [recipientId, accountId])).rows[0];
      if (!r) return null;
      const subscriptions = (await c.query<Row>('SELECT * FROM subscription_channel WHERE recipient_id = $1 ORDER BY list_id, channel', [recipientId])).rows
        .map(toRecipientSubscription);
      const groups = (await c.query<Row>(`
        SELECT g.* FROM membership m JOIN "group" g ON g.id = m.group_id WHERE m.recipient_id = $1 ORDER BY g.list_id, g.id`, [recipientId]))
        .rows.map(toGroup);
      const imports = (await c.query<Row>(`
        SELECT p.id, p.list_id, p.status, p.created_at, p.end_date FROM import_process p
        WHERE p.account_id = $1 AND p.id IN (
          SELECT process_id FROM subscription_channel WHERE recipient_id = $2 AND process_id IS NOT NULL
          UNION SELECT process_id FROM confirmation_request WHERE recipient_id = $2)
        ORDER BY p.id DESC`, [accountId, recipientId])).rows.map(toRecipientImport);
      const confirmations = (await c.query<Row>(`
        SELECT * FROM confirmation_request WHERE recipient_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT 200`, [recipientId, accountId]))
        .rows.map(toRecipientConfirmation);
      return toRecipientDetail(r, { subscriptions, groups, imports, confirmations });
    });
  }

  async exportList(accountId: number, listId: number): Promise<ListExport | null> {
    if (!(await getList(this.pool, accountId, listId))) return null;
    // One row per recipient: the list's rows of the subscription table, both channels in each.
    const from = 'FROM subscription k JOIN recipient r ON r.id = k.recipient_id';
    const where = 'WHERE k.list_id = $1';
    const reader = await SnapshotReader.open(this.pool);
    try {
      const fieldNumbers = (await reader.client.query<Row>(`SELECT DISTINCT j.key::int AS k ${from}, jsonb_object_keys(r.fields) AS j(key) ${where}`, [listId]))
        .rows.map((r) => Number(r.k)).sort((a, b) => a - b);
      const rows = reader.stream(`
        SELECT r.id, r.email, r.mobile, r.name, r.fields, r.created_at, r.updated_at,
          k.email_status, k.sms_status
        ${from} ${where} ORDER BY k.recipient_id`, [listId], toListExportRow);
      return { fieldNumbers, rows, close: () => reader.close() };
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  async rejectReportPage(accountId: number, processId: number, query: { afterRow?: number; limit: number }): Promise<KeysetPage<RejectReportRow>> {
    const rows = await queryRows(this.pool, `
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = $1 AND p.account_id = $2 AND r.row_no > $3::bigint ORDER BY r.row_no LIMIT $4`,
    [processId, accountId, query.afterRow ?? 0, query.limit + 1]);
    return {
      items: rows.slice(0, query.limit).map(toRejectRow), hasNext: rows.length > query.limit, hasPrevious: (query.afterRow ?? 0) > 0,
    };
  }

  async streamRejectReport(accountId: number, processId: number): Promise<AsyncIterable<RejectReportRow> | null> {
    if (!(await queryRow(this.pool, 'SELECT 1 FROM import_process WHERE id = $1 AND account_id = $2', [processId, accountId]))) return null;
    const pool = this.pool;
    // The snapshot is taken when the rows are first read, so an unread stream holds nothing.
    return (async function* rows(): AsyncGenerator<RejectReportRow> {
      const reader = await SnapshotReader.open(pool);
      yield* reader.stream('SELECT * FROM import_reject WHERE process_id = $1 ORDER BY row_no', [processId], toRejectRow);
    })();
  }

  async outboxPage(accountId: number, query: { olderThan?: number; newerThan?: number; limit: number }): Promise<KeysetPage<OutboxMessage>> {
    return newestFirstPage(query, (cursor, backward, limit) => queryRows(this.pool, `
      SELECT * FROM outbox WHERE account_id = $1 ${cursor === null ? '' : backward ? 'AND id > $3' : 'AND id < $3'}
      ORDER BY id ${backward ? 'ASC' : 'DESC'} LIMIT $2`, [accountId, limit, ...(cursor === null ? [] : [cursor])]), toOutboxMessage);
  }

  async getOutboxMessage(accountId: number, id: number): Promise<OutboxMessage | null> {
    const r = await queryRow(this.pool, 'SELECT * FROM outbox WHERE id = $1 AND account_id = $2', [id, accountId]);
    return r ? toOutboxMessage(r) : null;
  }
}
