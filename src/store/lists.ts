/**
 * An account's mailing lists and their groups. The rules for names (trimming, cutting, which
 * names count as the same) are the core's (src/core/groups.ts); the store keeps what it is given.
 */
import type { Group, ListWithGroups, MailingList } from '../model/records.ts';

export type GroupRename =
  | { readonly ok: true; readonly group: Group }
  | { readonly ok: false; readonly reason: 'not-found' | 'duplicate' };

export type GroupDeletion =
  | { readonly ok: true; readonly group: Group }
  /** 'in-use': an import that has not finished (prepared, waiting or running) names the group. */
  | { readonly ok: false; readonly reason: 'not-found' | 'in-use' };

export interface ListStore {
  createList(accountId: number, name: string, guid?: string): Promise<MailingList>;
  renameList(accountId: number, listId: number, name: string): Promise<MailingList | null>;
  getList(accountId: number, listId: number): Promise<MailingList | null>;
  /** The default country (ISO 3166 alpha-2) of a list of the account; null when it has none or the account has no such list. */
  getListCountry(accountId: number, listId: number): Promise<string | null>;
  /** Sets (null: clears) the default country of a list of the account; false when the account has no such list. */
  setListCountry(accountId: number, listId: number, country: string | null): Promise<boolean>;
  /** The account's lists in id order, each with its default country and its groups; with `onlyListIds`, those of them only. */
  listLists(accountId: number, onlyListIds?: readonly number[] | null): Promise<ListWithGroups[]>;
  /**
   * Creates the group, or returns the list's group of that name (case-insensitive) with
   * created=false; `notes` are kept only when the group is created.
   */
  createGroup(listId: number, name: string, notes?: string): Promise<{ group: Group; created: boolean }>;
  getGroups(listId: number): Promise<Group[]>;
  /** The group, when it belongs to a list of the account. */
  getGroup(accountId: number, groupId: number): Promise<Group | null>;
  renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename>;
  /** Replaces the notes of a group of the account; null when the account has no such group. */
  setGroupNotes(accountId: number, groupId: number, notes: string): Promise<Group | null>;
  /**
   * Deletes a group of the account with its memberships (the recipients stay on the list),
   * unless an import that has not finished names it: that import would then fail.
   */
  deleteGroup(accountId: number, groupId: number): Promise<GroupDeletion>;
}
