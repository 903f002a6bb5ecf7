/**
 * An account's mailing lists and their groups. The rules for names (trimming, cutting, which
 * names count as the same) are the core's (src/core/groups.ts); the store keeps what it is given.
 */
import type { Group, ListWithGroups, MailingList } from '../model/records.ts';

export type GroupRename =
  | { readonly ok: true; readonly group: Group }
  | { readonly ok: false; readonly reason: 'not-found' | 'duplicate' };

export interface ListStore {
  createList(accountId: number, name: string, guid?: string): Promise<MailingList>;
  renameList(accountId: number, listId: number, name: string): Promise<MailingList | null>;
  getList(accountId: number, listId: number): Promise<MailingList | null>;
  listLists(accountId: number, onlyListIds?: readonly number[] | null): Promise<ListWithGroups[]>;
  /** Creates the group, or returns the list's group of that name (case-insensitive) with created=false. */
  createGroup(listId: number, name: string): Promise<{ group: Group; created: boolean }>;
  getGroups(listId: number): Promise<Group[]>;
  /** The group, when it belongs to a list of the account. */
  getGroup(accountId: number, groupId: number): Promise<Group | null>;
  renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename>;
}
