/**
 * The batch merge on PostgreSQL (`PgBatchMerge`), the import hot path: one batch of the feed
 * merged set-based, in one transaction that holds the account's subscribers lock (locks.ts).
 * Every kind of write is one statement over parallel arrays (`unnest`), so a batch of 5,000 rows
 * costs about ten round trips whatever its size: the prior-state lookups, the new recipients
 * (RETURNING their ids), the updated ones (jsonb `||` patches their fields, as json_patch does in
 * SQLite), subscriptions, memberships, confirmation requests, rejects, and the checkpoint with
 * the counters, guarded by the lease. The batch holds its process row locked from the lease check
 * to the commit, so a lease cannot change hands in the middle of a batch.
 *
 * The semantics are the SQLite adapter's, statement for statement. Where SQLite lets a later row
 * of one statement overwrite an earlier one (an upsert touching the same key twice), PostgreSQL
 * refuses, so those rows are folded here first, keeping the same outcome: the last one wins.
 */
import type pg from 'pg';
import {
  dropEmpty, foldSubscriptionRows, insertedRecipientKey, KEEP_UNWRITTEN_CHANNEL, newRecipientKey, PRIOR_SUBSCRIPTION,
} from '../common/batch-keys.ts';
import { PROCESS_COLUMNS } from '../common/process-sql.ts';
import { toPriorRecipient, toProcess, type Row } from '../common/row-mappers.ts';
import type { BatchMergeStore } from '../merge.ts';
import { emailKey, mobileKey } from '../../model/batch.ts';
import { LeaseLostError } from '../processes.ts';
import type { BatchKeys, BatchPlan, PriorRecipient, RecipientWrite } from '../../model/batch.ts';
import type { ImportProcess } from '../../model/records.ts';
import type { Lease } from '../processes.ts';
import { lockAccount, LOCK } from './locks.ts';
import { inTransaction } from './pool.ts';

export class PgBatchMerge implements BatchMergeStore {
  constructor(private readonly pool: pg.Pool) {}

  async mergeBatch(
    lease: Lease,
    keys: BatchKeys,
    lastRow: number,
    plan: (prior: ReadonlyMap<string, PriorRecipient>) => BatchPlan,
  ): Promise<ImportProcess> {
    const row = await inTransaction(this.pool, async (c) => {
      await lockAccount(c, LOCK.subscribers, lease.process.accountId);
      return mergeBatchInTransaction(c, lease, keys, lastRow, plan, PROCESS_COLUMNS);
    });
    return toProcess(row);
  }
}

const PRIOR_COLUMNS = `r.id, r.email, r.mobile, ${PRIOR_SUBSCRIPTION}`;
// LATERAL with LIMIT 1 is evaluated per recipient, as a primary-key lookup: never a join over
// the list's whole subscriptions, whatever the planner believes about their number.
const PRIOR_SUBSCRIPTIONS = `
  LEFT JOIN LATERAL (SELECT email_status, email_reason, sms_status, sms_reason FROM subscription
    WHERE list_id = $3 AND recipient_id = r.id LIMIT 1) s ON true`;

/** One row per recipient with both channels, from parallel arrays; a channel with a null status is not set. */
const SUBSCRIPTION_ROWS = `(list_id, recipient_id, email_status, email_reason, email_process_id, email_updated_at,
    sms_status, sms_reason, sms_process_id, sms_updated_at)
  SELECT $1, u.recipient_id,
    u.email_status, u.email_reason, CASE WHEN u.email_status IS NULL THEN NULL ELSE $2::bigint END,
    CASE WHEN u.email_status IS NULL THEN NULL ELSE now() END,
    u.sms_status, u.sms_reason, CASE WHEN u.sms_status IS NULL THEN NULL ELSE $2::bigint END,
    CASE WHEN u.sms_status IS NULL THEN NULL ELSE now() END
  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(recipient_id, email_status, email_reason, sms_status, sms_reason)`;

/** Named statements: parsed once per connection, planned with the batch's keys as the outer loop. */
const SQL = {
  /**
   * Every statement of a batch is a set of index lookups driven by the batch's keys. Statistics
   * lag behind a bulk load (a fresh table looks empty for its first minute of imports), and a
   * planner that believes them would hash or scan a whole table per batch; the batch's
   * transaction therefore rules those plans out.
   */
  indexPlans: {
    name: 'merge-index-plans',
    text: `SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true),
      set_config('enable_mergejoin', 'off', true)`,
  },
  leaseHeld: {
    name: 'merge-lease',
    text: 'SELECT list_id FROM import_process WHERE id = $1 AND lease_owner = $2 AND status = 2 FOR NO KEY UPDATE',
  },
  priorByEmail: {
    name: 'merge-prior-email',
    text: `SELECT ${PRIOR_COLUMNS} FROM unnest($1::text[]) AS k(email)
      CROSS JOIN LATERAL (SELECT id, email, mobile FROM recipient WHERE account_id = $2 AND email = k.email LIMIT 1) r ${PRIOR_SUBSCRIPTIONS}`,
  },
  // The oldest recipient with the number, as SQLite's min(id) picks.
  priorByMobile: {
    name: 'merge-prior-mobile',
    text: `SELECT ${PRIOR_COLUMNS} FROM unnest($1::text[]) AS k(mobile)
      CROSS JOIN LATERAL (SELECT id, email, mobile FROM recipient WHERE account_id = $2 AND mobile = k.mobile ORDER BY id LIMIT 1) r
      ${PRIOR_SUBSCRIPTIONS}`,
  },
  insertRecipients: {
    name: 'merge-insert-recipients',
    text: `INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at)
      SELECT $1, u.email, u.mobile, u.name, u.fields::jsonb, now(), now()
      FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(email, mobile, name, fields)
      RETURNING id, email, mobile`,
  },
  updateRecipients: {
    name: 'merge-update-recipients',
    text: `UPDATE recipient SET
        email = coalesce(u.email, recipient.email),
        mobile = coalesce(u.mobile, recipient.mobile),
        name = coalesce(u.name, recipient.name),
        fields = recipient.fields || u.fields::jsonb,
        updated_at = now()
      FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, email, mobile, name, fields)
      WHERE recipient.id = u.id`,
  },
  // Recipients created by this batch have nothing to conflict with: a plain insert, cheaper than an upsert.
  insertSubscriptions: {
    name: 'merge-insert-subscriptions',
    text: `INSERT INTO subscription ${SUBSCRIPTION_ROWS}`,
  },
  // A channel with a null status is one the batch left alone: it keeps what it held.
  upsertSubscriptions: {
    name: 'merge-upsert-subscriptions',
    text: `INSERT INTO subscription ${SUBSCRIPTION_ROWS}
      ON CONFLICT (list_id, recipient_id) DO UPDATE SET ${KEEP_UNWRITTEN_CHANNEL}`,
  },
  insertMemberships: {
    name: 'merge-insert-memberships',
    text: `INSERT INTO membership (recipient_id, group_id)
      SELECT r, g FROM unnest($1::bigint[]) AS r, unnest($2::bigint[]) AS g`,
  },
  joinGroups: {
    name: 'merge-join-groups',
    text: `INSERT INTO membership (recipient_id, group_id)
      SELECT r, g FROM unnest($1::bigint[]) AS r, unnest($2::bigint[]) AS g
      ON CONFLICT DO NOTHING`,
  },
  leaveOtherGroups: {
    name: 'merge-leave-groups',
    text: `DELETE FROM membership
      WHERE recipient_id = ANY($1::bigint[])
        AND group_id IN (SELECT id FROM "group" WHERE list_id = $2)
        AND NOT (group_id = ANY($3::bigint[]))`,
  },
  queueConfirmations: {
    name: 'merge-queue-confirmations',
    text: `INSERT INTO confirmation_request (account_id, process_id, recipient_id, list_id, created_at)
      SELECT $1, $2, r, $3, now() FROM unnest($4::bigint[]) AS r`,
  },
  insertRejects: {
    name: 'merge-insert-rejects',
    text: `INSERT INTO import_reject (process_id, row_no, raw, reason)
      SELECT $1, u.row_no, u.raw, u.reason FROM unnest($2::int[], $3::text[], $4::text[]) AS u(row_no, raw, reason)
      ON CONFLICT (process_id, row_no) DO UPDATE SET raw = excluded.raw, reason = excluded.reason`,
  },
};

/** The checkpoint and counters move with the batch, only while the lease is still ours. */
function commitBatchSql(processColumns: string): { name: string; text: string } {
  return {
    name: 'merge-commit',
    text: `UPDATE import_process p SET checkpoint = $1,
        new_email = new_email + $2, new_mobile = new_mobile + $3, existing_email = existing_email + $4,
        existing_mobile = existing_mobile + $5, optout_email = optout_email + $6, optout_mobile = optout_mobile + $7,
        rejected = rejected + $8, lease_expires_at = clock_timestamp() + $9 * interval '1 millisecond'
      WHERE id = $10 AND lease_owner = $11 AND status = 2
      RETURNING ${processColumns}`,
  };
}

/** Recipient writes folded by id, in the order of their first appearance. */
function foldUpdates(recipients: readonly RecipientWrite[]): Map<number, { email: string | null; mobile: string | null; name: string | null; fields: Record<number, string> }> {
  const byId = new Map<number, { email: string | null; mobile: string | null; name: string | null; fields: Record<number, string> }>();
  for (const r of recipients) {
    if (r.id === null) continue;
    const seen = byId.get(r.id);
    if (!seen) byId.set(r.id, { email: r.email, mobile: r.mobile, name: r.name, fields: { ...r.fields } });
    else {
      seen.email = r.email ?? seen.email;
      seen.mobile = r.mobile ?? seen.mobile;
      seen.name = r.name ?? seen.name;
      Object.assign(seen.fields, r.fields);
    }
  }
  return byId;
}

/**
 * Merges one batch inside the caller's open transaction; returns the process row as
 * `processColumns` selects it. Throws LeaseLostError when the lease is no longer held.
 */
async function mergeBatchInTransaction(
  client: pg.ClientBase,
  lease: Lease,
  keys: BatchKeys,
  lastRow: number,
  plan: (prior: ReadonlyMap<string, PriorRecipient>) => BatchPlan,
  processColumns: string,
): Promise<Row> {
  const p = lease.process;
  await client.query(SQL.indexPlans);
  // The row lock keeps a claim by another worker out until this batch commits.
  const held = await client.query({ ...SQL.leaseHeld, values: [p.id, lease.owner] });
  if (held.rowCount !== 1) throw new LeaseLostError(p.id);

  const prior = new Map<string, PriorRecipient>();
  if (keys.emails.length > 0) {
    const { rows } = await client.query<Row>({ ...SQL.priorByEmail, values: [keys.emails, p.accountId, p.listId] });
    for (const r of rows) prior.set(emailKey(String(r.email)), toPriorRecipient(r));
  }
  if (keys.mobiles.length > 0) {
    const { rows } = await client.query<Row>({ ...SQL.priorByMobile, values: [keys.mobiles, p.accountId, p.listId] });
    for (const r of rows) prior.set(mobileKey(String(r.mobile)), toPriorRecipient(r));
  }
  const batch = plan(prior);

  // Recipients: the new ones in one statement, the existing ones in one.
  const ids: number[] = new Array(batch.recipients.length);
  const fresh = { email: [] as (string | null)[], mobile: [] as (string | null)[], name: [] as (string | null)[], fields: [] as string[] };
  const freshIndex = new Map<string, number>();
  batch.recipients.forEach((r, i) => {
    if (r.id === null) {
      fresh.email.push(r.email);
      fresh.mobile.push(r.mobile);
      fresh.name.push(r.name);
      fresh.fields.push(JSON.stringify(dropEmpty(r.fields)));
      freshIndex.set(newRecipientKey(r), i);
    } else {
      ids[i] = r.id;
    }
  });
  if (fresh.email.length > 0) {
    const { rows } = await client.query<Row>({
      ...SQL.insertRecipients, values: [p.accountId, fresh.email, fresh.mobile, fresh.name, fresh.fields],
    });
    for (const row of rows) ids[freshIndex.get(insertedRecipientKey(row))!] = Number(row.id);
  }
  const updates = foldUpdates(batch.recipients);
  if (updates.size > 0) {
    const u = { id: [] as number[], email: [] as (string | null)[], mobile: [] as (string | null)[], name: [] as (string | null)[], fields: [] as string[] };
    for (const [id, w] of updates) {
      u.id.push(id);
      u.email.push(w.email);
      u.mobile.push(w.mobile);
      u.name.push(w.name);
      u.fields.push(JSON.stringify(w.fields));
    }
    await client.query({ ...SQL.updateRecipients, values: [u.id, u.email, u.mobile, u.name, u.fields] });
  }

  // Subscriptions (one row per recipient, the last write per channel wins), groups and confirmation requests.
  const confirmations: number[] = [];
  const joining = { fresh: [] as number[], known: [] as number[] };
  batch.recipients.forEach((r, i) => {
    for (const s of r.subscriptions) if (s.requestConfirmation) confirmations.push(ids[i]!);
    if (r.joinGroups) joining[r.id === null ? 'fresh' : 'known'].push(ids[i]!);
  });
  const rows = foldSubscriptionRows(batch.recipients, ids);
  for (const fresh of [true, false]) {
    const s = rows.filter((x) => x.fresh === fresh);
    if (s.length === 0) continue;
    await client.query({
      ...(fresh ? SQL.insertSubscriptions : SQL.upsertSubscriptions),
      values: [p.listId, p.id, s.map((x) => x.recipientId), s.map((x) => x.emailStatus), s.map((x) => x.emailReason),
        s.map((x) => x.smsStatus), s.map((x) => x.smsReason)],
    });
  }
  // Only recipients that existed before the batch can be in the list's other groups.
  const groupIds = [...new Set(p.options.groupIds)];
  if (p.options.replaceGroups && joining.known.length > 0) {
    await client.query({ ...SQL.leaveOtherGroups, values: [joining.known, p.listId, groupIds] });
  }
  if (groupIds.length > 0) {
    if (joining.fresh.length > 0) await client.query({ ...SQL.insertMemberships, values: [joining.fresh, groupIds] });
    if (joining.known.length > 0) await client.query({ ...SQL.joinGroups, values: [joining.known, groupIds] });
  }
  if (confirmations.length > 0) await client.query({ ...SQL.queueConfirmations, values: [p.accountId, p.id, p.listId, confirmations] });
  if (batch.rejects.length > 0) {
    await client.query({
      ...SQL.insertRejects,
      values: [p.id, batch.rejects.map((r) => r.row), batch.rejects.map((r) => r.raw), batch.rejects.map((r) => r.reason)],
    });
  }

  const c = batch.counters;
  const committed = await client.query<Row>({
    ...commitBatchSql(processColumns),
    values: [lastRow, c.newEmail, c.newMobile, c.existingEmail, c.existingMobile, c.optOutEmail, c.optOutMobile,
      batch.rejects.length, lease.leaseMs, p.id, lease.owner],
  });
  if (committed.rowCount !== 1) throw new LeaseLostError(p.id);
  return committed.rows[0]!;
}
