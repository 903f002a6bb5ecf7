/**
 * The console's read-only views on SQLite: processes, list statistics, recipient search and
 * detail, list exports and reject reports (streamed from a reader connection's snapshot), and the
 * outbox.
 */
import type Database from 'better-sqlite3';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  toChannelCounts, toGroup, toListExportRow, toOutboxMessage, toProcessWithQueue, toRecipientConfirmation, toRecipientDetail,
  toRecipientImport, toRecipientSubscription, toRejectRow, type Row,
} from '../common/row-mappers.ts';
import { PROCESS_WITH_QUEUE_COLUMNS } from '../common/process-sql.ts';
import { channelCountColumns, rareStatusHint, statusColumn, subscriptionMatch } from '../common/subscription-sql.ts';
import { newestFirstPage } from '../common/newest-first.ts';
import { searchRecipients, type RecipientSearchEngine } from '../common/recipient-search.ts';
import type { OutboxMessage } from '../confirmations.ts';
import type {
  KeysetPage, ListExport, ListExportRow, ListStats, ProcessPageQuery, QueryStore, RecipientDetail, RecipientFilter,
  RecipientPageQuery, RecipientSummary,
} from '../queries.ts';
import type { RejectReportRow } from '../../model/batch.ts';
import type { ProcessWithQueue } from '../../model/records.ts';
import type { SqliteConnection } from './connection.ts';
import type { SqliteLists } from './lists.ts';
import { prepare } from './prepare.ts';
import type { SqliteProcesses } from './processes.ts';

export class SqliteQueries implements QueryStore {
  constructor(private readonly db: SqliteConnection, private readonly lists: SqliteLists, private readonly processes: SqliteProcesses) {}

  async consoleProcesses(accountId: number, query: ProcessPageQuery): Promise<KeysetPage<ProcessWithQueue>> {
    const status = { all: null, waiting: 1, running: 2, completed: 3, failed: 4 }[query.status];
    return newestFirstPage(query, (cursor, backward, limit) => this.db.prepare(`
      SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p
      WHERE p.account_id = @account AND (@status IS NULL OR p.status = @status)
        AND (@lists IS NULL OR p.list_id IN (SELECT value FROM json_each(@lists)))
        ${cursor === null ? '' : backward ? 'AND p.id > @cursor' : 'AND p.id < @cursor'}
      ORDER BY p.id ${backward ? 'ASC' : 'DESC'} LIMIT @limit`).all({
      account: accountId, status, lists: query.listIds === null ? null : JSON.stringify(query.listIds), cursor, limit,
    }) as Row[], toProcessWithQueue);
  }

  async listStats(accountId: number, listIds: readonly number[], options: { readonly groups?: boolean } = {}): Promise<ListStats[]> {
    const lists = (this.db.prepare('SELECT id FROM list WHERE account_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .all(accountId, JSON.stringify(listIds)) as Row[]).map((r) => Number(r.id));
    // One pass over the list's range of the table: a row per recipient, both channels in it.
    const byList = this.db.prepare(`SELECT ${channelCountColumns('s')} FROM subscription s WHERE s.list_id = ?`);
    const groups = this.db.prepare('SELECT id FROM "group" WHERE list_id = ? ORDER BY id');
    const members = this.db.prepare('SELECT count(*) AS n FROM membership WHERE group_id = ?');
    const byGroup = this.db.prepare(`
      SELECT ${channelCountColumns('s')} FROM membership m
      JOIN subscription s ON s.list_id = ? AND s.recipient_id = m.recipient_id
      WHERE m.group_id = ?`);
    // One read transaction, so the list's and its groups' counts agree with each other.
    return this.db.transaction(() => lists.map((listId): ListStats => {
      const list = byList.get(listId) as Row;
      return {
        listId,
        counts: toChannelCounts(list),
        recipients: Number(list.recipients),
        groups: options.groups === false ? [] : (groups.all(listId) as Row[]).map((g) => ({
          groupId: Number(g.id),
          members: Number((members.get(g.id) as Row).n),
          counts: toChannelCounts(byGroup.get(listId, g.id) as Row),
        })),
      };
    }))();
  }

  async searchRecipients(accountId: number, filter: RecipientFilter, page: RecipientPageQuery): Promise<KeysetPage<RecipientSummary>> {
    return searchRecipients(accountId, filter, page, this.recipientSearch);
  }

  /** The recipient search's SQL; what to run, and the paging, are decided in common/recipient-search.ts. */
  private readonly recipientSearch: RecipientSearchEngine = {
    groupList: (accountId, groupId) => {
      const group = this.db.prepare('SELECT g.list_id FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
        .get(groupId, accountId) as Row | undefined;
      return group ? Number(group.list_id) : null;
    },
    hasList: (accountId, listId) => this.lists.hasList(accountId, listId),
    fetch: ({ drive, match, checks }, cursor, backward, limit) => {
      const params = {
        account: match.accountId, list: match.listId, group: match.groupId, channel: match.channel, status: match.status,
        cursor: cursor?.[1] ?? null, cursorId: cursor?.[2] ?? null, limit,
      };
      const all = (sql: string, more: object = {}): Row[] => this.db.prepare(sql).all({ ...params, ...more }) as Row[];
      // The cursor condition is left out of the first page's SQL: `(@cursor IS NULL OR …)` would
      // keep SQLite from seeking the index to the cursor, and every page would scan from the start.
      const after = (left: string, right = '@cursor'): string => (cursor === null ? '' : ` AND ${left} ${backward ? '<' : '>'} ${right}`);
      const order = backward ? 'DESC' : 'ASC';
      const check = (checks.membership ? ' AND EXISTS (SELECT 1 FROM membership m WHERE m.recipient_id = r.id AND m.group_id = @group)' : '')
        + (checks.subscription ? ` AND EXISTS (SELECT 1 FROM subscription s WHERE s.recipient_id = r.id
          AND (@list IS NULL OR s.list_id = @list) AND ${subscriptionMatch('s', match.channel, match.status === null ? null : '@status')})` : '');
      switch (drive.by) {
        case 'email': return all(`
          SELECT r.id, r.email FROM recipient r INDEXED BY recipient_email
          WHERE r.account_id = @account AND r.email IS NOT NULL AND r.email >= @lo AND r.email < @hi${after('r.email')}${check}
          ORDER BY r.email ${order} LIMIT @limit`, { lo: drive.lo, hi: drive.hi });
        case 'mobile': return all(`
          SELECT r.id, r.mobile FROM recipient r INDEXED BY recipient_mobile
          WHERE r.account_id = @account AND r.mobile IS NOT NULL AND r.mobile >= @lo AND r.mobile < @hi${after('(r.mobile, r.id)', '(@cursor, @cursorId)')}${check}
          ORDER BY r.mobile ${order}, r.id ${order} LIMIT @limit`, { lo: drive.lo, hi: drive.hi });
        case 'group': return all(`
          SELECT m.recipient_id AS id FROM membership m INDEXED BY membership_group JOIN recipient r ON r.id = m.recipient_id
          WHERE m.group_id = @group${after('m.recipient_id')}${check}
          ORDER BY m.recipient_id ${order} LIMIT @limit`);
        case 'list': return all(`
          SELECT s.recipient_id AS id FROM subscription s
          WHERE s.list_id = @list AND ${subscriptionMatch('s', match.channel, null)}${after('s.recipient_id')}
          ORDER BY s.recipient_id ${order} LIMIT @limit`);
        case 'listStatus': return drive.channels.flatMap((c) => all(`
          SELECT s.recipient_id AS id FROM subscription s
          WHERE s.list_id = @list AND ${statusColumn('s', c)} = @status${rareStatusHint('s', c, match.status)}${after('s.recipient_id')}
          ORDER BY s.recipient_id ${order} LIMIT @limit`));
        case 'account': return all(`
          SELECT r.id FROM recipient r INDEXED BY recipient_account
          WHERE r.account_id = @account${after('r.id')}${check}
          ORDER BY r.id ${order} LIMIT @limit`);
      }
    },
    load: (ids) => {
      const json = JSON.stringify(ids);
      return {
        people: this.db.prepare('SELECT r.id, r.email, r.mobile, r.name FROM json_each(?) k JOIN recipient r ON r.id = k.value').all(json) as Row[],
        subscriptions: this.db.prepare(`
          SELECT recipient_id, list_id, channel, status FROM subscription_channel WHERE recipient_id IN (SELECT value FROM json_each(?))
          ORDER BY list_id, channel`).all(json) as Row[],
      };
    },
  };

  async recipientDetail(accountId: number, recipientId: number): Promise<RecipientDetail | null> {
    return this.db.transaction((): RecipientDetail | null => {
      const r = this.db.prepare('SELECT * FROM recipient WHERE id = ? AND account_id = ?').get(recipientId, accountId) as Row | undefined;
      if (!r) return null;
      const subscriptions = (this.db.prepare('SELECT * FROM subscription_channel WHERE recipient_id = ? ORDER BY list_id, channel').all(recipientId) as Row[])
        .map(toRecipientSubscription);
      const groups = (this.db.prepare(`
        SELECT g.* FROM membership m JOIN "group" g ON g.id = m.group_id WHERE m.recipient_id = ? ORDER BY g.list_id, g.id`)
        .all(recipientId) as Row[]).map(toGroup);
      const imports = (this.db.prepare(`
        SELECT p.id, p.list_id, p.status, p.created_at, p.end_date FROM import_process p
        WHERE p.account_id = ? AND p.id IN (
          SELECT process_id FROM subscription_channel WHERE recipient_id = ? AND process_id IS NOT NULL
          UNION SELECT process_id FROM confirmation_request WHERE recipient_id = ?)
        ORDER BY p.id DESC`).all(accountId, recipientId, recipientId) as Row[]).map(toRecipientImport);
      const confirmations = (this.db.prepare(`
        SELECT * FROM confirmation_request WHERE recipient_id = ? AND account_id = ? ORDER BY id DESC LIMIT 200`)
        .all(recipientId, accountId) as Row[]).map(toRecipientConfirmation);
      return toRecipientDetail(r, { subscriptions, groups, imports, confirmations });
    })();
  }

  async exportList(accountId: number, listId: number): Promise<ListExport | null> {
    if (!this.lists.hasList(accountId, listId)) return null;
    const reader = this.db.openReader();
    let released = false;
    const close = (): void => {
      if (released) return;
      released = true;
      this.db.closeReader(reader);
    };
    try {
      // One row per recipient: the list's range of the subscription table, both channels in it.
      const from = 'FROM subscription k JOIN recipient r ON r.id = k.recipient_id';
      const where = 'WHERE k.list_id = @list';
      // The campo numbers in use, read first: a whole pass over the list, so it goes by ranges of
      // recipient ids, letting other requests run between them.
      const fieldNumbers = new Set<number>();
      const last = Number((prepare(reader, 'SELECT max(recipient_id) AS m FROM subscription WHERE list_id = ?').get(listId) as Row).m ?? 0);
      const keys = prepare(reader, `SELECT DISTINCT j.key AS k ${from}, json_each(r.fields) j ${where} AND k.recipient_id > @from AND k.recipient_id <= @to`);
      for (let from = 0; from < last; from += EXPORT_RANGE) {
        for (const f of keys.all({ list: listId, from, to: from + EXPORT_RANGE }) as Row[]) fieldNumbers.add(Number(f.k));
        await yieldToEventLoop();
      }
      const statement = prepare(reader, `
        SELECT r.id, r.email, r.mobile, r.name, r.fields, r.created_at, r.updated_at,
          k.email_status, k.sms_status
        ${from} ${where} ORDER BY k.recipient_id`);
      async function* rows(): AsyncGenerator<ListExportRow> {
        if (released) return;
        const iterator = statement.iterate({ list: listId }) as IterableIterator<Row>;
        try {
          for (const r of iterator) yield toListExportRow(r);
        } finally {
          iterator.return?.();
          close();
        }
      }
      return { fieldNumbers: [...fieldNumbers].sort((a, b) => a - b), rows: rows(), close };
    } catch (err) {
      close();
      throw err;
    }
  }

  async rejectReportPage(accountId: number, processId: number, query: { afterRow?: number; limit: number }): Promise<KeysetPage<RejectReportRow>> {
    const rows = this.db.prepare(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = ? AND p.account_id = ? AND r.row_no > ? ORDER BY r.row_no LIMIT ?`)
      .all(processId, accountId, query.afterRow ?? 0, query.limit + 1) as Row[];
    return {
      items: rows.slice(0, query.limit).map(toRejectRow), hasNext: rows.length > query.limit, hasPrevious: (query.afterRow ?? 0) > 0,
    };
  }

  async streamRejectReport(accountId: number, processId: number): Promise<AsyncIterable<RejectReportRow> | null> {
    if (!this.processes.hasProcess(accountId, processId)) return null;
    const open = (): Database.Database => this.db.openReader();
    const done = (reader: Database.Database): void => this.db.closeReader(reader);
    // The snapshot is taken when the rows are first read, so an unread stream holds nothing.
    return (async function* rows(): AsyncGenerator<RejectReportRow> {
      const reader = open();
      try {
        for (const r of prepare(reader, 'SELECT * FROM import_reject WHERE process_id = ? ORDER BY row_no').iterate(processId) as IterableIterator<Row>) {
          yield toRejectRow(r);
        }
      } finally {
        done(reader);
      }
    })();
  }

  async outboxPage(accountId: number, query: { olderThan?: number; newerThan?: number; limit: number }): Promise<KeysetPage<OutboxMessage>> {
    return newestFirstPage(query, (cursor, backward, limit) => this.db.prepare(`
      SELECT * FROM outbox WHERE account_id = @account ${cursor === null ? '' : backward ? 'AND id > @cursor' : 'AND id < @cursor'}
      ORDER BY id ${backward ? 'ASC' : 'DESC'} LIMIT @limit`).all({ account: accountId, cursor, limit }) as Row[], toOutboxMessage);
  }

  async getOutboxMessage(accountId: number, id: number): Promise<OutboxMessage | null> {
    const r = this.db.prepare('SELECT * FROM outbox WHERE id = ? AND account_id = ?').get(id, accountId) as Row | undefined;
    return r ? toOutboxMessage(r) : null;
  }
}

/** Recipient ids per step of an export's first pass: a few tens of milliseconds of work each. */
const EXPORT_RANGE = 25_000;
