/**
 * Mailing lists and their groups on PostgreSQL. Group names compare as SQLite's NOCASE does
 * (ASCII letters only), through the ascii_lower() index of the migrations.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { toGroup, toList, toListWithGroups, type Row } from '../common/row-mappers.ts';
import type { GroupDeletion, GroupRename, ListStore } from '../lists.ts';
import type { Group, ListWithGroups, MailingList } from '../../model/records.ts';
import { lockAccount, LOCK } from './locks.ts';
import { inTransaction, pgError, queryRow, queryRows } from './pool.ts';

/**
 * The list, when it is the account's. Every web-service call checks its list: a named statement,
 * parsed and planned once per connection. The console's queries (queries.ts) check with it too.
 */
export async function getList(pool: pg.Pool, accountId: number, listId: number): Promise<MailingList | null> {
  const { rows } = await pool.query<Row>({ name: 'list-by-id', text: 'SELECT * FROM list WHERE id = $1 AND account_id = $2', values: [listId, accountId] });
  return rows[0] ? toList(rows[0]) : null;
}

export class PgLists implements ListStore {
  constructor(private readonly pool: pg.Pool) {}

  async createList(accountId: number, name: string, guid: string = randomUUID()): Promise<MailingList> {
    const r = await queryRow(this.pool, 'INSERT INTO list (account_id, guid, name) VALUES ($1, $2, $3) RETURNING *', [accountId, guid.toLowerCase(), name]);
    return toList(r!);
  }

  async renameList(accountId: number, listId: number, name: string): Promise<MailingList | null> {
    const r = await queryRow(this.pool, 'UPDATE list SET name = $1 WHERE id = $2 AND account_id = $3 RETURNING *', [name, listId, accountId]);
    return r ? toList(r) : null;
  }

  async getList(accountId: number, listId: number): Promise<MailingList | null> {
    return getList(this.pool, accountId, listId);
  }

  async getListCountry(accountId: number, listId: number): Promise<string | null> {
    const r = await queryRow(this.pool, 'SELECT country FROM list WHERE id = $1 AND account_id = $2', [listId, accountId]);
    return (r?.country as string | null | undefined) ?? null;
  }

  async setListCountry(accountId: number, listId: number, country: string | null): Promise<boolean> {
    return (await this.pool.query('UPDATE list SET country = $1 WHERE id = $2 AND account_id = $3', [country, listId, accountId])).rowCount === 1;
  }

  async listLists(accountId: number, onlyListIds: readonly number[] | null = null): Promise<ListWithGroups[]> {
    const lists = (await queryRows(this.pool, 'SELECT * FROM list WHERE account_id = $1 ORDER BY id', [accountId]))
      .filter((r) => onlyListIds === null || onlyListIds.includes(Number(r.id)));
    const groups = (await queryRows(this.pool,
      'SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE l.account_id = $1 ORDER BY g.id', [accountId],
    )).map(toGroup);
    return lists.map((r) => toListWithGroups(r, groups));
  }

  async createGroup(listId: number, name: string, notes = ''): Promise<{ group: Group; created: boolean }> {
    // Names compare as SQLite's NOCASE does (ASCII letters only); a concurrent twin waits here, then is found.
    const created = await queryRow(this.pool,
      'INSERT INTO "group" (list_id, name, notes) VALUES ($1, $2, $3) ON CONFLICT (list_id, ascii_lower(name)) DO NOTHING RETURNING *', [listId, name, notes],
    );
    if (created) return { group: toGroup(created), created: true };
    const existing = await queryRow(this.pool, 'SELECT * FROM "group" WHERE list_id = $1 AND ascii_lower(name) = ascii_lower($2)', [listId, name]);
    return { group: toGroup(existing!), created: false };
  }

  async getGroups(listId: number): Promise<Group[]> {
    return (await queryRows(this.pool, 'SELECT * FROM "group" WHERE list_id = $1 ORDER BY id', [listId])).map(toGroup);
  }

  async getGroup(accountId: number, groupId: number): Promise<Group | null> {
    const r = await queryRow(this.pool, 'SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2', [groupId, accountId]);
    return r ? toGroup(r) : null;
  }

  async renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename> {
    try {
      return await inTransaction(this.pool, async (c): Promise<GroupRename> => {
        const group = (await c.query<Row>(
          'SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2 FOR UPDATE OF g', [groupId, accountId],
        )).rows[0];
        if (!group) return { ok: false, reason: 'not-found' };
        // Group names are unique per list without regard to (ASCII) case.
        const twin = await c.query('SELECT 1 FROM "group" WHERE list_id = $1 AND ascii_lower(name) = ascii_lower($2) AND id <> $3', [group.list_id, name, groupId]);
        if (twin.rowCount !== 0) return { ok: false, reason: 'duplicate' };
        return { ok: true, group: toGroup((await c.query<Row>('UPDATE "group" SET name = $1 WHERE id = $2 RETURNING *', [name, groupId])).rows[0]!) };
      });
    } catch (err) {
      // A twin created at the same moment.
      if (pgError(err).constraint === 'group_list_name') return { ok: false, reason: 'duplicate' };
      throw err;
    }
  }

  async setGroupNotes(accountId: number, groupId: number, notes: string): Promise<Group | null> {
    const r = await queryRow(this.pool, `
      UPDATE "group" SET notes = $1 WHERE id = $2 AND list_id IN (SELECT id FROM list WHERE account_id = $3) RETURNING *`, [notes, groupId, accountId]);
    return r ? toGroup(r) : null;
  }

  async deleteGroup(accountId: number, groupId: number): Promise<GroupDeletion> {
    return inTransaction(this.pool, async (c): Promise<GroupDeletion> => {
      // The start lock keeps a process from being created or started meanwhile (processes.ts), the
      // subscribers lock a batch from adding members; taken in the order every transaction takes them.
      await lockAccount(c, LOCK.start, accountId);
      await lockAccount(c, LOCK.subscribers, accountId);
      const group = (await c.query<Row>(
        'SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2 FOR UPDATE OF g', [groupId, accountId],
      )).rows[0];
      if (!group) return { ok: false, reason: 'not-found' };
      // Statuses 1 (prepared or waiting) and 2 (running): the worker would add members to it.
      const named = await c.query(`
        SELECT 1 FROM import_process WHERE list_id = $1 AND status IN (1, 2) AND options -> 'groupIds' @> jsonb_build_array($2::bigint)`,
      [group.list_id, groupId]);
      if (named.rowCount !== 0) return { ok: false, reason: 'in-use' };
      await c.query('DELETE FROM membership WHERE group_id = $1', [groupId]);
      await c.query('DELETE FROM "group" WHERE id = $1', [groupId]);
      return { ok: true, group: toGroup(group) };
    });
  }
}
