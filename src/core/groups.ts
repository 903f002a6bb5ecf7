/**
 * Groups of a list and the rules for their names, the same through every door (SOAP CreateGroup,
 * the console, the admin CLI): a name is trimmed and cut to MAX_GROUP_NAME characters, and a name
 * that differs from an existing group's only in case finds that group instead of making another.
 */
import type { Group } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import { hasControlCharacter } from './text.ts';

/** Longest group name; MailUp cuts longer ones (spec §13). */
export const MAX_GROUP_NAME = 50;

/**
 * Group names are unique without regard to case but with regard to accents, as in MailUp's SQL
 * Server collation (CI_AS): "CITTÀ" is "Città", "Citta" is another group. The stores' unique
 * indexes fold ASCII case only, so this comparison is what finds the existing group.
 */
const SAME_GROUP_NAME = new Intl.Collator('en', { sensitivity: 'accent', usage: 'search' });

export const sameGroupName = (a: string, b: string): boolean => SAME_GROUP_NAME.compare(a, b) === 0;

/**
 * The name a group gets: trimmed, then its first MAX_GROUP_NAME characters counted in code
 * points (cutting UTF-16 units could leave half a surrogate pair, which no XML document can
 * carry), trimmed again. `cut` tells that characters were dropped; '' means no name was given.
 */
export function groupName(raw: string): { readonly name: string; readonly cut: boolean } {
  const chars = Array.from(raw.trim());
  if (chars.length <= MAX_GROUP_NAME) return { name: chars.join(''), cut: false };
  return { name: chars.slice(0, MAX_GROUP_NAME).join('').trimEnd(), cut: true };
}

export type GroupCreated = { readonly ok: true; readonly group: Group; readonly created: boolean; readonly cut: boolean };

/**
 * Creates the group in the list, or finds the list's group of the same name (created false).
 * `notes` (the REST API's Group.Notes) are kept when the group is created; an existing group
 * keeps its own.
 */
export async function createGroup(
  store: Store, listId: number, rawName: string, notes = '',
): Promise<GroupCreated | { readonly ok: false; readonly reason: 'empty-name' | 'control-character' | GroupNotesRefusal }> {
  const { name, cut } = groupName(rawName);
  if (name === '') return { ok: false, reason: 'empty-name' };
  if (hasControlCharacter(name)) return { ok: false, reason: 'control-character' };
  const notesRefusal = checkGroupNotes(notes);
  if (notesRefusal !== null) return { ok: false, reason: notesRefusal };
  const existing = (await store.lists.getGroups(listId)).find((g) => sameGroupName(g.name, name));
  if (existing) return { ok: true, group: existing, created: false, cut };
  const { group, created } = await store.lists.createGroup(listId, name, notes);
  return { ok: true, group, created, cut };
}

/** Longest group notes, in characters (MailUp documents no limit; this keeps a row small). */
export const MAX_GROUP_NOTES = 1000;

export type GroupNotesRefusal = 'notes-too-long' | 'notes-control-character';

export function checkGroupNotes(notes: string): GroupNotesRefusal | null {
  if (Array.from(notes).length > MAX_GROUP_NOTES) return 'notes-too-long';
  return hasControlCharacter(notes) ? 'notes-control-character' : null;
}

/** Replaces the notes of a group of the account. */
export async function setGroupNotes(
  store: Store, accountId: number, groupId: number, notes: string,
): Promise<{ readonly ok: true; readonly group: Group } | { readonly ok: false; readonly reason: GroupNotesRefusal | 'not-found' }> {
  const refusal = checkGroupNotes(notes);
  if (refusal !== null) return { ok: false, reason: refusal };
  const group = await store.lists.setGroupNotes(accountId, groupId, notes);
  return group ? { ok: true, group } : { ok: false, reason: 'not-found' };
}

/**
 * Deletes a group of the account; its recipients leave it and stay on the list. Refused
 * ('in-use') while an import that has not finished names the group, since that import would add
 * recipients to it.
 */
export async function deleteGroup(
  store: Store, accountId: number, groupId: number,
): Promise<{ readonly ok: true; readonly group: Group } | { readonly ok: false; readonly reason: 'not-found' | 'in-use' }> {
  return store.lists.deleteGroup(accountId, groupId);
}

/** Renames a group of the account; refused when another group of its list has the same name. */
export async function renameGroup(
  store: Store, accountId: number, groupId: number, rawName: string,
): Promise<{ readonly ok: true; readonly group: Group; readonly cut: boolean } | { readonly ok: false; readonly reason: 'empty-name' | 'control-character' | 'not-found' | 'duplicate' }> {
  const { name, cut } = groupName(rawName);
  if (name === '') return { ok: false, reason: 'empty-name' };
  if (hasControlCharacter(name)) return { ok: false, reason: 'control-character' };
  const group = await store.lists.getGroup(accountId, groupId);
  if (group === null) return { ok: false, reason: 'not-found' };
  const others = (await store.lists.getGroups(group.listId)).filter((g) => g.id !== groupId);
  if (others.some((g) => sameGroupName(g.name, name))) return { ok: false, reason: 'duplicate' };
  const renamed = await store.lists.renameGroup(accountId, groupId, name);
  return renamed.ok ? { ok: true, group: renamed.group, cut } : renamed;
}
