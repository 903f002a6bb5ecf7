/**
 * An account's mailing lists: creating and renaming them, and finding the list a call names by
 * id and GUID (MailUp's list check, spec §3.4). The SOAP service, the console and the admin CLI
 * all go through these functions.
 */
import { randomUUID } from 'node:crypto';
import type { MailingList } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import { hasControlCharacter } from './text.ts';
import { isCountryWithPlan } from '../import/phone-number.ts';

export const MAX_LIST_NAME = 100;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID of 36 hexadecimal characters and dashes, in any case, white space around it ignored. */
export const isGuid = (s: string): boolean => GUID.test(s.trim());

export type ListNameRefusal = 'empty-name' | 'name-too-long' | 'control-character';

/** A list name: on one line (runs of white space become one space), trimmed, at most MAX_LIST_NAME characters, no control characters. */
export function listName(raw: string): { ok: true; name: string } | { ok: false; reason: ListNameRefusal } {
  const name = raw.replace(/\s+/g, ' ').trim();
  if (name === '') return { ok: false, reason: 'empty-name' };
  if (Array.from(name).length > MAX_LIST_NAME) return { ok: false, reason: 'name-too-long' };
  if (hasControlCharacter(name)) return { ok: false, reason: 'control-character' };
  return { ok: true, name };
}

/** A unique index refused the row: better-sqlite3 and pg report it with these codes. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** Creates a list; its GUID is new and random unless given (GUIDs are unique across every account). */
export async function createList(
  store: Store, accountId: number, rawName: string, guid?: string,
): Promise<{ ok: true; list: MailingList } | { ok: false; reason: ListNameRefusal | 'invalid-guid' | 'guid-taken' }> {
  const checked = listName(rawName);
  if (!checked.ok) return checked;
  if (guid !== undefined && !isGuid(guid)) return { ok: false, reason: 'invalid-guid' };
  try {
    return { ok: true, list: await store.lists.createList(accountId, checked.name, guid?.trim().toLowerCase() ?? randomUUID()) };
  } catch (err) {
    // Only the store can tell, atomically, that another account's list already has the GUID.
    if (guid !== undefined && isUniqueViolation(err)) return { ok: false, reason: 'guid-taken' };
    throw err;
  }
}

export async function renameList(
  store: Store, accountId: number, listId: number, rawName: string,
): Promise<{ ok: true; list: MailingList } | { ok: false; reason: ListNameRefusal | 'not-found' }> {
  const checked = listName(rawName);
  if (!checked.ok) return checked;
  const list = await store.lists.renameList(accountId, listId, checked.name);
  return list ? { ok: true, list } : { ok: false, reason: 'not-found' };
}

/**
 * The list a call names by id and GUID: the GUID must be well-formed ('invalid-guid', -102 in
 * SOAP) and the pair must name a list of the account ('not-found', -101). GUIDs are compared
 * without regard to case.
 */
export async function findList(
  store: Store, accountId: number, idList: number, listGUID: string | null,
): Promise<{ ok: true; list: MailingList } | { ok: false; reason: 'invalid-guid' | 'not-found' }> {
  if (listGUID === null || !isGuid(listGUID)) return { ok: false, reason: 'invalid-guid' };
  const list = await store.lists.getList(accountId, idList);
  if (list === null || list.guid !== listGUID.trim().toLowerCase()) return { ok: false, reason: 'not-found' };
  return { ok: true, list };
}

/**
 * Sets a list's default country, the country whose numbering plan reads a mobile number given
 * without `+` or `00` (src/import/phone-number.ts). `rawCountry` is an ISO 3166 alpha-2 code in
 * any case, white space around it ignored ('invalid-country' when it is not one with a numbering
 * plan); '' clears it, and such numbers are then rejected.
 */
export async function setListCountry(
  store: Store, accountId: number, listId: number, rawCountry: string,
): Promise<{ ok: true; country: string | null } | { ok: false; reason: 'invalid-country' | 'not-found' }> {
  const trimmed = rawCountry.trim().toUpperCase();
  const country = trimmed === '' ? null : trimmed;
  if (country !== null && !isCountryWithPlan(country)) return { ok: false, reason: 'invalid-country' };
  return (await store.lists.setListCountry(accountId, listId, country)) ? { ok: true, country } : { ok: false, reason: 'not-found' };
}
