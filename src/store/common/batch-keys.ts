/**
 * What the two adapters' batch merges share beside the row mappers: how a new recipient's fields
 * are stored, and the key that matches a recipient the batch inserts to the row its insert
 * returns (both sides must compute the same key).
 */
import { emailKey, mobileKey } from '../../model/batch.ts';
import type { RecipientWrite } from '../../model/batch.ts';
import type { Row } from './row-mappers.ts';

/** A new recipient has nothing to clear: empty field values are simply not stored. */
export function dropEmpty(fields: Readonly<Record<number, string>>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== '') out[Number(k)] = v;
  return out;
}

/** The key of a recipient the batch creates: its e-mail, or its mobile when it has none. */
export const newRecipientKey = (write: RecipientWrite): string =>
  write.email !== null ? emailKey(write.email) : mobileKey(write.mobile ?? '');

/** The same key, from an inserted recipient's `email, mobile` as the insert returns them. */
export const insertedRecipientKey = (row: Row): string =>
  row.email !== null ? emailKey(String(row.email)) : mobileKey(String(row.mobile));
