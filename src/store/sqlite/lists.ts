/**
 * An account's mailing lists and their groups on SQLite.
 */
import { randomUUID } from 'node:crypto';
import { toGroup, toList, toListWithGroups, type Row } from '../common/row-mappers.ts';
import type { GroupDeletion, GroupRename, ListStore } from '../lists.ts';
import type { Group, ListWithGroups, MailingList } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';
import type { Statement } from './prepare.ts';

export class SqliteLists implements ListStore {
  private readonly stmt;

  constructor(private readonly db: SqliteConnection) {
    // Named statements are prepared once, at start-up, so a typo fails on boot.
    const named = (sql: string): Statement => db.named(sql);
    this.stmt = {
      listById: named('SELECT * FROM list WHERE id = ? AND account_id = ?'),
      groupsOfList: named('SELECT * FROM "group" WHERE list_id = ? ORDER BY id'),
    };
  }

  /** Whether the list is the account's: the check the console's reads make first (queries.ts). */
  hasList(accountId: number, listId: number): boolean {
    return this.stmt.listById.get(listId, accountId) !== undefined;
  }

  async createList(accountId: number, name: string, guid: string = randomUUID()): Promise<MailingList> {
    const r = this.db.prepare('INSERT INTO list (account_id, guid, name, created_at) VALUES (?, ?, ?, ?) RETURNING *')
      .get(accountId, guid.toLowerCase(), name, now()) as Row;
    return toList(r);
  }

  async renameList(accountId: number, listId: number, name: string): Promise<MailingList | null> {
    const r = this.db.prepare('UPDATE list SET name = ? WHERE id = ? AND account_id = ? RETURNING *').get(name, listId, accountId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async getList(accountId: number, listId: number): Promise<MailingList | null> {
    const r = this.stmt.listById.get(listId, accountId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async getListCountry(accountId: number, listId: number): Promise<string | null> {
    const r = this.db.prepare('SELECT country FROM list WHERE id = ? AND account_id = ?').get(listId, accountId) as { country: string | null } | undefined;
    return r?.country ?? null;
  }

  async setListCountry(accountId: number, listId: number, country: string | null): Promise<boolean> {
    return this.db.prepare('UPDATE list SET country = ? WHERE id = ? AND account_id = ?').run(country, listId, accountId).changes === 1;
  }

  async listLists(accountId: number, onlyListIds: readonly number[] | null = null): Promise<ListWithGroups[]> {
    const lists = (this.db.prepare('SELECT * FROM list WHERE account_id = ? ORDER BY id').all(accountId) as Row[])
      .filter((r) => onlyListIds === null || onlyListIds.includes(Number(r.id)));
    const groups = (this.db.prepare(`
      SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE l.account_id = ? ORDER BY g.id`).all(accountId) as Row[]).map(toGroup);
    return lists.map((r) => toListWithGroups(r, groups));
  }

  async createGroup(listId: number, name: string, notes = ''): Promise<{ group: Group; created: boolean }> {
    const tx = this.db.transaction(() => {
      const existing = this.db.prepare('SELECT * FROM "group" WHERE list_id = ? AND name = ?').get(listId, name) as Row | undefined;
      if (existing) return { group: toGroup(existing), created: false };
      const r = this.db.prepare('INSERT INTO "group" (list_id, name, notes, created_at) VALUES (?, ?, ?, ?) RETURNING *').get(listId, name, notes, now()) as Row;
      return { group: toGroup(r), created: true };
    });
    return tx.immediate();
  }

  async getGroups(listId: number): Promise<Group[]> {
    return (this.stmt.groupsOfList.all(listId) as Row[]).map(toGroup);
  }

  async getGroup(accountId: number, groupId: number): Promise<Group | null> {
    const r = this.db.prepare('SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
      .get(groupId, accountId) as Row | undefined;
    return r ? toGroup(r) : null;
  }

  async renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename> {
    return this.db.transaction((): GroupRename => {
      const group = this.db.prepare('SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
        .get(groupId, accountId) as Row | undefined;
      if (!group) return { ok: false, reason: 'not-found' };
      // Group names are unique per list without regard to case (the column is NOCASE).
      if (this.db.prepare('SELECT 1 FROM "group" WHERE list_id = ? AND name = ? AND id <> ?').get(group.list_id, name, groupId)) {
        return { ok: false, reason: 'duplicate' };
      }
      return { ok: true, group: toGroup(this.db.prepare('UPDATE "group" SET name = ? WHERE id = ? RETURNING *').get(name, groupId) as Row) };
    }).immediate();
  }

  async setGroupNotes(accountId: number, groupId: number, notes: string): Promise<Group | null> {
    const r = this.db.prepare(`
      UPDATE "group" SET notes = ? WHERE id = ? AND list_id IN (SELECT id FROM list WHERE account_id = ?) RETURNING *`)
      .get(notes, groupId, accountId) as Row | undefined;
    return r ? toGroup(r) : null;
  }

  async deleteGroup(accountId: number, groupId: number): Promise<GroupDeletion> {
    return this.db.transaction((): GroupDeletion => {
      const group = this.db.prepare('SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
        .get(groupId, accountId) as Row | undefined;
      if (!group) return { ok: false, reason: 'not-found' };
      // Statuses 1 (prepared or waiting) and 2 (running): the worker would add members to it.
      const named = this.db.prepare(`
        SELECT 1 FROM import_process p WHERE p.list_id = ? AND p.status IN (1, 2)
          AND EXISTS (SELECT 1 FROM json_each(p.options, '$.groupIds') WHERE value = ?)`).get(group.list_id, groupId);
      if (named) return { ok: false, reason: 'in-use' };
      this.db.prepare('DELETE FROM membership WHERE group_id = ?').run(groupId);
      this.db.prepare('DELETE FROM "group" WHERE id = ?').run(groupId);
      return { ok: true, group: toGroup(group) };
    }).immediate();
  }
}
