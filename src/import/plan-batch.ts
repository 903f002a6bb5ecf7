/**
 * Plans one batch: given the batch's rows and what the store knew of their recipients before,
 * decides every write (recipients, subscriptions per channel, groups, confirmation requests),
 * the rejects and the counters. Pure: no I/O, so it runs inside the store's transaction.
 *
 * Counting (DESIGN.md): every row counts in TotalContacts; per channel a valid row counts once,
 * as OptOut when it leaves the recipient unsubscribed, otherwise as New when the recipient had
 * no subscription on that channel of the list before the row, otherwise as Existing. A row that
 * repeats an earlier one of the same feed therefore counts as Existing.
 */
import { emailKey, mobileKey } from '../model/batch.ts';
import type { BatchKeys, BatchPlan, PriorRecipient, RecipientWrite, RejectedRow, SubscriptionWrite } from '../model/batch.ts';
import { type Counters, type FeedRow, type ImportOptions, zeroCounters } from '../model/records.ts';
import type { Channel } from '../model/subscription.ts';
import { normaliseRow, type NormalisedRow } from './normalise-row.ts';
import { storeRejectedRow } from './rejected-row.ts';
import { applySubscriptionRules } from './subscription-rules.ts';
import type { PriorState } from '../model/subscription.ts';

export interface PreparedBatch {
  readonly keys: BatchKeys;
  readonly rows: readonly NormalisedRow[];
  readonly rejects: readonly RejectedRow[];
  readonly lastRow: number;
}

/**
 * Normalises a batch of feed rows and collects the identities to look up; `country` is the
 * default country of the process's list (null: none), which reads numbers without a country code.
 */
export function prepareBatch(rows: readonly FeedRow[], options: ImportOptions, country: string | null = null): PreparedBatch {
  const valid: NormalisedRow[] = [];
  const rejects: RejectedRow[] = [];
  const emails = new Set<string>();
  const mobiles = new Set<string>();
  for (const row of rows) {
    const result = normaliseRow(row, options, country);
    if (!result.ok) {
      rejects.push({ row: row.row, raw: storeRejectedRow(row), reason: result.reason });
      continue;
    }
    valid.push(result.value);
    if (result.value.email !== null) emails.add(result.value.email);
    else mobiles.add(result.value.mobile!);
  }
  return { keys: { emails: [...emails], mobiles: [...mobiles] }, rows: valid, rejects, lastRow: rows[rows.length - 1]?.row ?? 0 };
}

interface Draft {
  id: number | null;
  email: string | null;
  mobile: string | null;
  name: string | null;
  fields: Record<number, string>;
  state: Record<Channel, PriorState>;
  subscriptions: Map<Channel, SubscriptionWrite>;
}

const COUNTER: Record<Channel, { new: keyof Counters; existing: keyof Counters; optOut: keyof Counters }> = {
  email: { new: 'newEmail', existing: 'existingEmail', optOut: 'optOutEmail' },
  sms: { new: 'newMobile', existing: 'existingMobile', optOut: 'optOutMobile' },
};

export function planBatch(batch: PreparedBatch, prior: ReadonlyMap<string, PriorRecipient>, options: ImportOptions): BatchPlan {
  const counters = zeroCounters();
  const drafts = new Map<string, Draft>();
  const order: Draft[] = [];
  for (const row of batch.rows) {
    const key = row.email !== null ? emailKey(row.email) : mobileKey(row.mobile!);
    let draft = drafts.get(key);
    if (!draft) {
      const p = prior.get(key);
      draft = {
        id: p?.id ?? null, email: row.email ?? p?.email ?? null, mobile: p?.mobile ?? null, name: null, fields: {},
        state: { email: p?.emailState ?? { status: 'none' }, sms: p?.smsState ?? { status: 'none' } },
        subscriptions: new Map(),
      };
      drafts.set(key, draft);
      order.push(draft);
    }
    if (row.mobile !== null) draft.mobile = row.mobile;
    if (row.name !== null) draft.name = row.name;
    Object.assign(draft.fields, row.fields);
    for (const channel of ['email', 'sms'] as const) {
      if ((channel === 'email' ? row.email : row.mobile) === null) continue;
      const before = draft.state[channel];
      // The confirmation request is an e-mail: the SMS channel never waits for one.
      const flags = channel === 'email' ? options : { ...options, ConfirmEmail: false };
      const outcome = applySubscriptionRules(before, flags);
      const names = COUNTER[channel];
      counters[outcome.status === 'unsubscribed' ? names.optOut : before.status === 'none' ? names.new : names.existing]++;
      if (outcome.changed) {
        const earlier = draft.subscriptions.get(channel);
        draft.subscriptions.set(channel, {
          channel, status: outcome.status, reason: outcome.reason,
          requestConfirmation: outcome.requestConfirmation || (earlier?.requestConfirmation === true && outcome.status === 'pending'),
        });
      }
      draft.state[channel] = outcome.status === 'unsubscribed'
        ? { status: 'unsubscribed', reason: outcome.reason ?? 'user' }
        : { status: outcome.status };
    }
  }
  const recipients: RecipientWrite[] = order.map((d) => ({
    id: d.id, email: d.email, mobile: d.mobile, name: d.name, fields: d.fields,
    subscriptions: [...d.subscriptions.values()], joinGroups: true,
  }));
  return { recipients, rejects: batch.rejects, counters };
}
