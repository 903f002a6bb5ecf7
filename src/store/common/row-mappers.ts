/**
 * Rows to records, for both adapters: one mapper per record, so the two engines cannot drift
 * apart in what they answer. The drivers hand the same column over in different forms, and the
 * readers below accept either:
 *
 * - SQLite (better-sqlite3): JSON as text, booleans as 0/1, dates as ISO text.
 * - PostgreSQL (pg): jsonb already parsed, booleans as booleans, timestamptz as Date objects.
 *
 * Ids and counts are numbers from both (pool.ts parses bigint); epoch-millisecond columns
 * (`expires_at`, `next_attempt_at`) are numbers in both schemas.
 */
import type { PriorState, SubscriptionStatus, UnsubscribeReason } from '../../model/subscription.ts';
import { encodeCursor, type SearchKey } from './search-cursor.ts';
import type { ClaimedConfirmation, ConfirmationFailure, ConfirmationMessage, ConfirmationRequestRow, ConfirmationSummary, OutboxMessage } from '../confirmations.ts';
import type { ChannelCounts, ListExportRow, RecipientDetail, RecipientSummary } from '../queries.ts';
import type { ConsoleSession } from '../sessions.ts';
import type { PriorRecipient, RejectReportRow } from '../../model/batch.ts';
import type { Account, ConsoleUser, Group, ImportOptions, ImportProcess, ListWithGroups, MailingList, ProcessStatus, ProcessWithQueue } from '../../model/records.ts';
import type { Channel } from '../../model/subscription.ts';

export type Row = Record<string, unknown>;

/** A NOT NULL date column: ISO text from SQLite, a Date from pg. */
export const timestamp = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
/** A nullable date column. */
export const optionalTimestamp = (v: unknown): Date | null => (v === null || v === undefined ? null : timestamp(v));
/** A boolean column: 0/1 from SQLite, a boolean from pg. */
export const flag = (v: unknown): boolean => v === 1 || v === true;
/** A JSON column: text from SQLite, already parsed from pg's jsonb. */
export const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
/** An epoch-milliseconds column that may be null. */
const optionalEpoch = (v: unknown): Date | null => (v === null ? null : new Date(Number(v)));

export function toAccount(r: Row): Account {
  return {
    id: Number(r.id), wsUser: String(r.ws_user), passwordHash: String(r.password_hash), wsEnabled: flag(r.ws_enabled),
    ipCheck: flag(r.ip_check), allowedIps: json<string[]>(r.allowed_ips), name: String(r.name), createdAt: timestamp(r.created_at),
    httpApiIps: json<string[]>(r.http_api_ips ?? '[]'),
  };
}

export function toConsoleUser(r: Row): ConsoleUser {
  return {
    id: Number(r.id), accountId: Number(r.account_id), username: String(r.username), passwordHash: String(r.password_hash),
    listIds: r.list_ids === null ? null : json<number[]>(r.list_ids),
    enabled: flag(r.enabled ?? true), createdAt: timestamp(r.created_at),
  };
}

/** A console session row joined with its user's columns as `u_id`, `u_account_id`, `username`, …. */
export function toConsoleSessionAndUser(r: Row): { session: ConsoleSession; user: ConsoleUser } {
  return {
    session: {
      idHash: String(r.id_hash), userId: Number(r.user_id), accountId: Number(r.account_id), csrfToken: String(r.csrf_token),
      expiresAt: new Date(Number(r.expires_at)), ip: String(r.ip), userAgent: String(r.user_agent),
      createdAt: timestamp(r.created_at), lastSeenAt: timestamp(r.last_seen_at),
    },
    user: toConsoleUser({ ...r, id: r.u_id, account_id: r.u_account_id, created_at: r.u_created_at }),
  };
}

export const toList = (r: Row): MailingList => ({ id: Number(r.id), accountId: Number(r.account_id), guid: String(r.guid), name: String(r.name) });
/** A list row with its groups (all of the account's, or the list's own; those of other lists are left out). */
export const toListWithGroups = (r: Row, groups: readonly Group[]): ListWithGroups => {
  const list = toList(r);
  return { ...list, country: r.country === null || r.country === undefined ? null : String(r.country), groups: groups.filter((g) => g.listId === list.id) };
};
export const toGroup = (r: Row): Group => ({ id: Number(r.id), listId: Number(r.list_id), name: String(r.name), notes: String(r.notes ?? '') });

/** An import_process row. */
export function toProcess(r: Row): ImportProcess {
  return {
    id: Number(r.id), accountId: Number(r.account_id), listId: Number(r.list_id), feedId: Number(r.feed_id),
    options: json<ImportOptions>(r.options),
    status: Number(r.status) as ImportProcess['status'],
    queued: r.queued_seq !== null,
    runId: r.run_id === null || r.run_id === undefined ? null : Number(r.run_id),
    createdAt: timestamp(r.created_at), startDate: optionalTimestamp(r.start_date), endDate: optionalTimestamp(r.end_date),
    totalContacts: Number(r.total_contacts),
    counters: {
      newEmail: Number(r.new_email), newMobile: Number(r.new_mobile), existingEmail: Number(r.existing_email),
      existingMobile: Number(r.existing_mobile), optOutEmail: Number(r.optout_email), optOutMobile: Number(r.optout_mobile),
    },
    checkpoint: Number(r.checkpoint), rejected: Number(r.rejected),
    failureReason: r.failure_reason === null ? null : String(r.failure_reason),
    confirmationSentAt: optionalTimestamp(r.confirmation_sent_at),
  };
}

/** An import_process row with its `confirmations_pending` count. */
export const toProcessWithQueue = (r: Row): ProcessWithQueue => ({ ...toProcess(r), confirmationsPending: Number(r.confirmations_pending) });

export function toRejectRow(r: Row): RejectReportRow {
  return { processId: Number(r.process_id), row: Number(r.row_no), raw: String(r.raw), reason: String(r.reason) };
}

// Batch merges

/** A subscription's status and reason, as the prior-state lookups of a batch read them. */
export function priorState(status: unknown, reason: unknown): PriorState {
  if (status === null || status === undefined) return { status: 'none' };
  if (status === 'unsubscribed') return { status: 'unsubscribed', reason: (reason ?? 'user') as UnsubscribeReason };
  return { status: status as 'subscribed' | 'pending' };
}

/** A row of a prior-state lookup: the recipient, and its e-mail (`e_`) and SMS (`s_`) subscription. */
export function toPriorRecipient(r: Row): PriorRecipient {
  return {
    id: Number(r.id), email: r.email as string | null, mobile: r.mobile as string | null,
    emailState: priorState(r.e_status, r.e_reason), smsState: priorState(r.s_status, r.s_reason),
  };
}

// Double opt-in

export function toConfirmationMessage(r: Row): ConfirmationMessage {
  return {
    id: Number(r.id), accountId: Number(r.account_id), isDefault: flag(r.is_default), sender: String(r.sender),
    subject: String(r.subject), html: String(r.html), text: String(r.text), createdAt: timestamp(r.created_at),
  };
}

/** A claimed request joined with its recipient, list name and the process's `message_id`. */
export function toClaimedConfirmation(r: Row): ClaimedConfirmation {
  return {
    requestId: Number(r.id), processId: Number(r.process_id), recipientId: Number(r.recipient_id), listId: Number(r.list_id),
    listName: String(r.list_name), email: r.email as string | null, name: r.name as string | null,
    fields: json<Record<number, string>>(r.fields), messageId: Number(r.message_id), attempts: Number(r.attempts),
    sender: (r.sender ?? null) as string | null,
  };
}

/** A process with its requests counted by state (a count may be null when there are none). */
export function toConfirmationSummary(r: Row): ConfirmationSummary {
  const n = (v: unknown): number => Number(v ?? 0);
  return {
    processId: Number(r.id), listId: Number(r.list_id), processStatus: Number(r.process_status), requests: n(r.requests),
    queued: n(r.queued), sending: n(r.sending), sent: n(r.sent), retrying: n(r.retrying), failed: n(r.failed),
    cancelled: n(r.cancelled), confirmed: n(r.confirmed), confirmationSentAt: optionalTimestamp(r.confirmation_sent_at),
  };
}

export function toConfirmationFailure(r: Row): ConfirmationFailure {
  return {
    requestId: Number(r.id), processId: Number(r.process_id), listId: Number(r.list_id), email: r.email as string | null,
    attempts: Number(r.attempts), error: String(r.last_error ?? ''), permanent: r.next_attempt_at === null,
    nextAttemptAt: optionalEpoch(r.next_attempt_at),
  };
}

/** A confirmation_request row with its recipient's `email`. */
export function toConfirmationRequestRow(r: Row): ConfirmationRequestRow {
  return {
    requestId: Number(r.id), processId: Number(r.process_id), recipientId: Number(r.recipient_id), listId: Number(r.list_id),
    email: r.email as string | null, status: String(r.status) as ConfirmationRequestRow['status'], attempts: Number(r.attempts),
    lastError: r.last_error === null ? null : String(r.last_error),
    nextAttemptAt: optionalEpoch(r.next_attempt_at),
    createdAt: timestamp(r.created_at), sentAt: optionalTimestamp(r.sent_at), confirmedAt: optionalTimestamp(r.confirmed_at),
  };
}

export function toOutboxMessage(r: Row): OutboxMessage {
  return {
    id: Number(r.id), accountId: Number(r.account_id), requestId: r.request_id === null ? null : Number(r.request_id),
    sender: String(r.sender), recipient: String(r.recipient), subject: String(r.subject), html: String(r.html), text: String(r.text),
    createdAt: timestamp(r.created_at),
  };
}

// Console

/** Subscriptions counted by channel and status, from `channel, status, n` rows; missing ones are 0. */
/** The `<channel>_<status>` columns of common/subscription-sql.ts's channelCountColumns. */
export function toChannelCounts(r: Row): ChannelCounts {
  const count = (channel: Channel): Record<SubscriptionStatus, number> => ({
    subscribed: Number(r[`${channel}_subscribed`] ?? 0), pending: Number(r[`${channel}_pending`] ?? 0),
    unsubscribed: Number(r[`${channel}_unsubscribed`] ?? 0),
  });
  return { email: count('email'), sms: count('sms') };
}

/**
 * A page of a recipient search, in the order of its keys: `recipients` are their `id, email,
 * mobile, name` rows, `subscriptions` their `recipient_id, list_id, channel, status` rows.
 */
export function toRecipientSummaries(keys: readonly SearchKey[], recipients: readonly Row[], subscriptions: readonly Row[]): RecipientSummary[] {
  const people = new Map(recipients.map((r) => [Number(r.id), r]));
  const byRecipient = new Map<number, RecipientSummary['subscriptions'][number][]>();
  for (const s of subscriptions) {
    const id = Number(s.recipient_id);
    if (!byRecipient.has(id)) byRecipient.set(id, []);
    byRecipient.get(id)!.push({ listId: Number(s.list_id), channel: s.channel as Channel, status: s.status as SubscriptionStatus });
  }
  return keys.map((k): RecipientSummary => {
    const r = people.get(k.id)!;
    return {
      id: k.id, email: r.email as string | null, mobile: r.mobile as string | null, name: r.name as string | null,
      subscriptions: byRecipient.get(k.id) ?? [], cursor: encodeCursor(k.key),
    };
  });
}

type RecipientParts = Pick<RecipientDetail, 'subscriptions' | 'groups' | 'imports' | 'confirmations'>;

/** A recipient row with what the detail page shows beside it, each part mapped by the mappers below. */
export function toRecipientDetail(r: Row, parts: RecipientParts): RecipientDetail {
  return {
    id: Number(r.id), accountId: Number(r.account_id), email: r.email as string | null, mobile: r.mobile as string | null,
    name: r.name as string | null, fields: json<Record<number, string>>(r.fields),
    createdAt: timestamp(r.created_at), updatedAt: timestamp(r.updated_at),
    ...parts,
  };
}

export function toRecipientSubscription(s: Row): RecipientDetail['subscriptions'][number] {
  return {
    listId: Number(s.list_id), channel: s.channel as Channel, status: s.status as SubscriptionStatus,
    reason: s.reason as UnsubscribeReason | null, processId: s.process_id === null ? null : Number(s.process_id),
    updatedAt: timestamp(s.updated_at), confirmedAt: optionalTimestamp(s.confirmed_at),
  };
}

/** An import_process row's `id, list_id, status, created_at, end_date`. */
export function toRecipientImport(p: Row): RecipientDetail['imports'][number] {
  return {
    processId: Number(p.id), listId: Number(p.list_id), status: Number(p.status) as ProcessStatus,
    createdAt: timestamp(p.created_at), endDate: optionalTimestamp(p.end_date),
  };
}

export function toRecipientConfirmation(c: Row): RecipientDetail['confirmations'][number] {
  return {
    requestId: Number(c.id), processId: Number(c.process_id), listId: Number(c.list_id), status: String(c.status),
    attempts: Number(c.attempts), lastError: c.last_error === null ? null : String(c.last_error),
    createdAt: timestamp(c.created_at), sentAt: optionalTimestamp(c.sent_at), confirmedAt: optionalTimestamp(c.confirmed_at),
  };
}

/** A recipient row with its `email_status` and `sms_status` on the exported list. */
export function toListExportRow(r: Row): ListExportRow {
  return {
    id: Number(r.id), email: r.email as string | null, mobile: r.mobile as string | null, name: r.name as string | null,
    emailStatus: r.email_status as SubscriptionStatus | null, smsStatus: r.sms_status as SubscriptionStatus | null,
    fields: json<Record<number, string>>(r.fields), createdAt: timestamp(r.created_at), updatedAt: timestamp(r.updated_at),
  };
}
