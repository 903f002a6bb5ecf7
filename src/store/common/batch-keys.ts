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
  for (const k in fields) if (fields[k] !== '') out[k] = fields[k]!;
  return out;
}

/** The key of a recipient the batch creates: its e-mail, or its mobile when it has none. */
export const newRecipientKey = (write: RecipientWrite): string =>
  write.email !== null ? emailKey(write.email) : mobileKey(write.mobile ?? '');

/** The same key, from an inserted recipient's `email, mobile` as the insert returns them. */
export const insertedRecipientKey = (row: Row): string =>
  row.email !== null ? emailKey(String(row.email)) : mobileKey(String(row.mobile));

/**
 * A recipient's subscription row on the process's list as a batch writes it: both channels in one
 * row (migration 0011). A channel the batch leaves alone has a null status and keeps what it held.
 */
export interface SubscriptionRowWrite {
  readonly recipientId: number;
  /** Whether the recipient was created by this batch (nothing to conflict with). */
  readonly fresh: boolean;
  emailStatus: string | null;
  emailReason: string | null;
  smsStatus: string | null;
  smsReason: string | null;
}

/**
 * The batch's subscription writes folded into one row per recipient, in the order of the
 * recipients' first appearance. Two writes of one batch can reach the same recipient (a row
 * matched by e-mail and a later one by its mobile number): per channel the later one wins, as
 * it did when each channel was a row of its own.
 */
export function foldSubscriptionRows(recipients: readonly RecipientWrite[], ids: readonly number[]): SubscriptionRowWrite[] {
  const byId = new Map<number, SubscriptionRowWrite>();
  recipients.forEach((r, i) => {
    for (const s of r.subscriptions) {
      const id = ids[i]!;
      let row = byId.get(id);
      if (row === undefined) {
        row = { recipientId: id, fresh: r.id === null, emailStatus: null, emailReason: null, smsStatus: null, smsReason: null };
        byId.set(id, row);
      }
      if (s.channel === 'email') {
        row.emailStatus = s.status;
        row.emailReason = s.reason;
      } else {
        row.smsStatus = s.status;
        row.smsReason = s.reason;
      }
    }
  });
  return [...byId.values()];
}

/** The prior state's subscription columns (`e_`, `s_`) from the recipient's row `s` on the list. */
export const PRIOR_SUBSCRIPTION = 's.email_status AS e_status, s.email_reason AS e_reason, s.sms_status AS s_status, s.sms_reason AS s_reason';

/**
 * The SET of a batch's subscription upsert: each channel the batch wrote takes the new status,
 * reason, process and time; a channel it left alone (null status) keeps its own. Both engines
 * read the old row's values on the right-hand side.
 */
export const KEEP_UNWRITTEN_CHANNEL = ['email', 'sms'].map((c) => `
  ${c}_reason = CASE WHEN excluded.${c}_status IS NULL THEN subscription.${c}_reason ELSE excluded.${c}_reason END,
  ${c}_process_id = CASE WHEN excluded.${c}_status IS NULL THEN subscription.${c}_process_id ELSE excluded.${c}_process_id END,
  ${c}_updated_at = coalesce(excluded.${c}_updated_at, subscription.${c}_updated_at),
  ${c}_status = coalesce(excluded.${c}_status, subscription.${c}_status)`).join(',');
