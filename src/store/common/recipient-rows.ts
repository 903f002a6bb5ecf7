/**
 * What both adapters' single-recipient stores (sqlite/recipients.ts, postgres/recipients.ts)
 * share: the row mappers of recipients and their subscriptions, and the SQL of a recipient
 * listing (scope, filter, order), written once for both dialects.
 */
import type { Channel, SubscriptionStatus, UnsubscribeReason } from '../../model/subscription.ts';
import type {
  RecipientAttribute, RecipientCondition, RecipientListItem, RecipientListQuery, RecipientRecord, RecipientScope, RecipientState,
  SubscriptionRecord,
} from '../recipients.ts';
import { json, optionalTimestamp, timestamp, type Row } from './row-mappers.ts';
import { subscriptionMatch } from './subscription-sql.ts';

export function toRecipientRecord(r: Row): RecipientRecord {
  return {
    id: Number(r.id), accountId: Number(r.account_id), email: r.email as string | null, mobile: r.mobile as string | null,
    name: r.name as string | null, fields: json<Record<number, string>>(r.fields),
    createdAt: timestamp(r.created_at), updatedAt: timestamp(r.updated_at),
  };
}

/** A subscription row with its `last_request_at` (SUBSCRIPTION_COLUMNS). */
export function toSubscriptionRecord(s: Row): SubscriptionRecord {
  return {
    listId: Number(s.list_id), channel: s.channel as Channel, status: s.status as SubscriptionStatus,
    reason: (s.reason ?? null) as UnsubscribeReason | null, updatedAt: timestamp(s.updated_at),
    confirmedAt: optionalTimestamp(s.confirmed_at), requestIp: (s.request_ip ?? null) as string | null,
    lastRequestAt: optionalTimestamp(s.last_request_at),
  };
}

/** A subscription `s` (a row of the subscription_channel view) with when its latest confirmation request was queued. */
export const SUBSCRIPTION_COLUMNS = `s.list_id, s.channel, s.status, s.reason, s.updated_at, s.confirmed_at, s.request_ip,
  (SELECT max(c.created_at) FROM confirmation_request c WHERE c.recipient_id = s.recipient_id AND c.list_id = s.list_id) AS last_request_at`;

/** The state `getRecipient` answers, from the recipient row, its subscription rows and its group ids. */
export function toRecipientState(recipient: Row, subscriptions: readonly Row[], groupIds: readonly unknown[]): RecipientState {
  return {
    recipient: toRecipientRecord(recipient),
    subscriptions: subscriptions.map(toSubscriptionRecord).sort((a, b) => a.listId - b.listId || a.channel.localeCompare(b.channel)),
    groupIds: groupIds.map(Number).sort((a, b) => a - b),
  };
}

/** Page items: each recipient with its subscription rows (`recipient_id` and SUBSCRIPTION_COLUMNS). */
export function toListItems(recipients: readonly Row[], subscriptions: readonly Row[]): RecipientListItem[] {
  const byRecipient = new Map<number, SubscriptionRecord[]>();
  for (const s of subscriptions) {
    const id = Number(s.recipient_id);
    if (!byRecipient.has(id)) byRecipient.set(id, []);
    byRecipient.get(id)!.push(toSubscriptionRecord(s));
  }
  return recipients.map((r) => ({
    ...toRecipientRecord(r),
    subscriptions: (byRecipient.get(Number(r.id)) ?? []).sort((a, b) => a.channel.localeCompare(b.channel)),
  }));
}

/** The SQL a dialect writes its own way in a listing. */
export interface ListingDialect {
  /** Adds a parameter; answers its placeholder. */
  param(value: unknown): string;
  /** The text of field N of recipient `r`. */
  field(n: number): string;
  /** Whether `expr` holds `needle` (case-sensitive). */
  contains(expr: string, needle: string): string;
  /** `expr` compared bytewise when ordering, as SQLite's BINARY collation does. */
  bytewise(expr: string): string;
}

function attributeSql(d: ListingDialect, attribute: RecipientAttribute): string {
  if (typeof attribute === 'number') {
    if (!Number.isSafeInteger(attribute) || attribute < 1) throw new Error(`not a field number: ${attribute}`);
    return d.field(attribute);
  }
  return `r.${attribute}`;
}

function conditionSql(d: ListingDialect, c: RecipientCondition): string {
  const expr = attributeSql(d, c.attribute);
  if (c.attribute === 'id') {
    if (c.op !== 'equals' || typeof c.value !== 'number') throw new Error('the id compares to a number, for equality only');
    return `${expr} = ${d.param(c.value)}`;
  }
  const value = String(c.value);
  return c.op === 'equals' ? `${expr} = ${d.param(value)}` : d.contains(expr, d.param(value));
}

/** `FROM … WHERE …` of a listing: the account's recipients `r` in the scope that pass the filter. */
export function listingFromWhere(d: ListingDialect, accountId: number, scope: RecipientScope, filter: RecipientListQuery['filter']): string {
  // Parameters are added in the order they appear in the text (SQLite's `?` are positional).
  const ofAccount = `r.account_id = ${d.param(accountId)}`;
  const inScope = 'groupId' in scope
    ? `r.id IN (SELECT m.recipient_id FROM membership m WHERE m.group_id = ${d.param(scope.groupId)})`
    : `r.id IN (SELECT s.recipient_id FROM subscription s WHERE s.list_id = ${d.param(scope.listId)}`
      + ` AND ${subscriptionMatch('s', scope.channel, scope.status === null ? null : () => d.param(scope.status), scope.status)})`;
  const conditions = [ofAccount, inScope, ...filter.map((c) => conditionSql(d, c))];
  return `FROM recipient r WHERE ${conditions.join(' AND ')}`;
}

/** `ORDER BY …` of a listing: the terms asked for (nulls first ascending), then the id. */
export function listingOrderBy(d: ListingDialect, order: RecipientListQuery['order']): string {
  const terms = order.map((o) => {
    const expr = o.attribute === 'id' ? 'r.id' : d.bytewise(attributeSql(d, o.attribute));
    return o.direction === 'asc' ? `${expr} ASC NULLS FIRST` : `${expr} DESC NULLS LAST`;
  });
  return `ORDER BY ${[...terms, 'r.id ASC'].join(', ')}`;
}
