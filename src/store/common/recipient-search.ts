/**
 * The console's recipient search, decided once for both adapters: which index drives a search
 * (the e-mail or mobile index for a prefix, a group's members, a list's subscriptions, or the
 * account's recipients), which conditions are still checked per candidate, each mode's cursor key,
 * and the keyset paging. An adapter only runs the SQL in its dialect (RecipientSearchEngine).
 */
import type { Channel, SubscriptionStatus } from '../../model/subscription.ts';
import type { KeysetPage, RecipientFilter, RecipientPageQuery, RecipientSummary } from '../queries.ts';
import { toRecipientSummaries, type Row } from './row-mappers.ts';
import { cursorKeyFor, type SearchKey } from './search-cursor.ts';

export interface RecipientSearchPlan {
  /** i: by id; e: by e-mail; m: by mobile, then id. */
  readonly mode: 'i' | 'e' | 'm';
  readonly validKey: (key: readonly unknown[]) => boolean;
  /**
   * The index that drives the search: the e-mail or mobile one over [lo, hi) (the prefix and
   * whatever starts with it), the group's members, the list's subscriptions (of `channel`, or
   * any), for a status on a list one range of the (list_id, channel, status, recipient_id) index
   * per channel, merged, or the account's recipients.
   */
  readonly drive:
    | { readonly by: 'email' | 'mobile'; readonly lo: string; readonly hi: string }
    | { readonly by: 'group' | 'list' | 'account' }
    | { readonly by: 'listStatus'; readonly channels: readonly Channel[] };
  /** The filter, resolved: a group's list is the search's list. */
  readonly match: {
    readonly accountId: number; readonly listId: number | null; readonly groupId: number | null;
    readonly channel: Channel | null; readonly status: SubscriptionStatus | null;
  };
  /**
   * Per-candidate checks on recipient r, only those the driving index does not already ensure:
   * a membership of `groupId`; a subscription of `listId`, `channel` and `status` (those not null).
   */
  readonly checks: { readonly membership: boolean; readonly subscription: boolean };
}

/** What an adapter does for a search, in its dialect; SQLite answers synchronously. */
export interface RecipientSearchEngine {
  /** The list of the account's group; null when the account has no such group. */
  groupList(accountId: number, groupId: number): number | null | Promise<number | null>;
  hasList(accountId: number, listId: number): boolean | Promise<boolean>;
  /**
   * Up to `limit` rows of the driving index after (backward: before) the cursor, in that
   * direction's order: `id`, and the `email` or `mobile` of those modes; for `listStatus`, each
   * channel's range one after the other.
   */
  fetch(plan: RecipientSearchPlan, cursor: readonly unknown[] | null, backward: boolean, limit: number): Row[] | Promise<Row[]>;
  /** The recipients (id, email, mobile, name) and their subscriptions (recipient_id, list_id, channel, status; by list, channel). */
  load(ids: number[]): RecipientRows | Promise<RecipientRows>;
}
type RecipientRows = { readonly people: Row[]; readonly subscriptions: Row[] };

const VALID_KEY: Record<RecipientSearchPlan['mode'], RecipientSearchPlan['validKey']> = {
  i: (key) => key.length === 2 && Number.isSafeInteger(key[1]),
  e: (key) => key.length === 2 && typeof key[1] === 'string',
  m: (key) => key.length === 3 && typeof key[1] === 'string' && Number.isSafeInteger(key[2]),
};

/** The search of `filter` within `listId`, the list it was resolved to (resolveList). */
export function planRecipientSearch(accountId: number, filter: RecipientFilter, listId: number | null): RecipientSearchPlan {
  const match = { accountId, listId, groupId: filter.groupId ?? null, channel: filter.channel ?? null, status: filter.status ?? null };
  const subscription = listId !== null || match.channel !== null || match.status !== null;
  const plan = (mode: RecipientSearchPlan['mode'], drive: RecipientSearchPlan['drive'], checks: RecipientSearchPlan['checks']): RecipientSearchPlan =>
    ({ mode, validKey: VALID_KEY[mode], drive, match, checks });
  const prefix = filter.emailPrefix ?? filter.mobilePrefix;
  if (prefix !== undefined) {
    const email = filter.emailPrefix !== undefined;
    return plan(email ? 'e' : 'm', { by: email ? 'email' : 'mobile', lo: prefix, hi: `${prefix}\u{10FFFF}` }, { membership: match.groupId !== null, subscription });
  }
  if (match.groupId !== null) return plan('i', { by: 'group' }, { membership: false, subscription });
  if (listId !== null) {
    const checks = { membership: false, subscription: false };
    if (match.status === null) return plan('i', { by: 'list' }, checks);
    return plan('i', { by: 'listStatus', channels: match.channel !== null ? [match.channel] : ['email', 'sms'] }, checks);
  }
  return plan('i', { by: 'account' }, { membership: false, subscription });
}

/**
 * The list a search is confined to: the filter's, or its group's (which must then be the
 * filter's list, if it names one). Null when the account has no such group or list: nothing matches.
 */
async function resolveList(accountId: number, filter: RecipientFilter, engine: RecipientSearchEngine): Promise<{ listId: number | null } | null> {
  if (filter.groupId !== undefined) {
    const listId = await engine.groupList(accountId, filter.groupId);
    return listId === null || (filter.listId !== undefined && listId !== filter.listId) ? null : { listId };
  }
  if (filter.listId === undefined) return { listId: null };
  return (await engine.hasList(accountId, filter.listId)) ? { listId: filter.listId } : null;
}

/** QueryStore.searchRecipients, on an adapter's engine. */
export async function searchRecipients(
  accountId: number, filter: RecipientFilter, page: RecipientPageQuery, engine: RecipientSearchEngine,
): Promise<KeysetPage<RecipientSummary>> {
  const resolved = await resolveList(accountId, filter, engine);
  if (resolved === null) return { items: [], hasNext: false, hasPrevious: false };
  return searchPage(planRecipientSearch(accountId, filter, resolved.listId), page, engine);
}

/** A page of a planned search: after or before a cursor of the same kind of search, else the first. */
async function searchPage(plan: RecipientSearchPlan, page: RecipientPageQuery, engine: RecipientSearchEngine): Promise<KeysetPage<RecipientSummary>> {
  const after = cursorKeyFor(page.after, plan);
  const before = after === null ? cursorKeyFor(page.before, plan) : null;
  const backward = before !== null;
  const keys = searchKeys(plan, await engine.fetch(plan, backward ? before : after, backward, page.limit + 1), backward, page.limit + 1);
  const more = keys.length > page.limit;
  // Paging back to the start gives the first page, full, rather than a short one.
  if (backward && !more) return searchPage(plan, { limit: page.limit }, engine);
  const found = keys.slice(0, page.limit);
  if (backward) found.reverse();
  const { people, subscriptions } = await engine.load(found.map((k) => k.id));
  const items = toRecipientSummaries(found, people, subscriptions);
  return backward ? { items, hasNext: true, hasPrevious: true } : { items, hasNext: more, hasPrevious: after !== null };
}

/** The fetched rows' keys; a status's channel ranges merged, each recipient once, in the direction's order. */
function searchKeys(plan: RecipientSearchPlan, rows: readonly Row[], backward: boolean, limit: number): SearchKey[] {
  if (plan.mode === 'e') return rows.map((r) => ({ id: Number(r.id), key: ['e', String(r.email)] }));
  if (plan.mode === 'm') return rows.map((r) => ({ id: Number(r.id), key: ['m', String(r.mobile), Number(r.id)] }));
  let ids = rows.map((r) => Number(r.id));
  if (plan.drive.by === 'listStatus') ids = [...new Set(ids)].sort((a, b) => (backward ? b - a : a - b)).slice(0, limit);
  return ids.map((id) => ({ id, key: ['i', id] }));
}
