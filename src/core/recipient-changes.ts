/**
 * Everything a single-recipient call does besides subscribing (./recipients.ts): unsubscribe,
 * read a recipient's status on a list, update its data and groups, join or leave one group, leave
 * a list, leave the account. The HTTP subscribe API's pages and the REST API's recipient calls go
 * through these functions; each change is one store transaction planned against the recipient as
 * it is then (src/store/recipients.ts).
 *
 * Unsubscribing is the user's own act (reason 'user'): a subscribed or pending recipient becomes
 * unsubscribed; an unsubscribed one keeps its state and reason; one not on the list stays off it.
 */
import type { Channel, SubscriptionStatus } from '../model/subscription.ts';
import type { Group } from '../model/records.ts';
import type { RecipientState } from '../store/recipients.ts';
import type { Store } from '../store/store.ts';
import { checkRecipient, type RecipientInput, type RecipientInputRefusal } from './recipient-input.ts';
import { channelsNamed, checkListsAndGroups, priorStateOf, recipientKey } from './recipients.ts';

/** A recipient named by a call: its id, or its e-mail, or its mobile (only the address members are read). */
export type RecipientName = Pick<RecipientInput, 'id' | 'email' | 'mobile'>;

export type UnsubscribeOutcome =
  | {
    readonly ok: true;
    /** unsubscribed: at least one channel left the list now; already-unsubscribed: it was off every channel named; not-on-list: nothing to unsubscribe. */
    readonly result: 'unsubscribed' | 'already-unsubscribed' | 'not-on-list';
    readonly recipientId: number;
  }
  | { readonly ok: false; readonly reason: RecipientInputRefusal | 'unknown-list' | 'not-found' };

/** Unsubscribes the recipient from the list on the channels the call names (named by id: every channel it has there). */
export async function unsubscribeRecipient(store: Store, accountId: number, listId: number, who: RecipientName): Promise<UnsubscribeOutcome> {
  const checked = checkRecipient(who, { country: await store.lists.getListCountry(accountId, listId) });
  if (!checked.ok) return checked;
  if ((await store.lists.getList(accountId, listId)) === null) return { ok: false, reason: 'unknown-list' };
  const r = checked.value;
  const applied = await store.recipients.applyRecipientChange(accountId, recipientKey(r), (prior) => {
    if (prior === null) return { write: null, answer: null };
    const named = r.id === null ? channelsNamed(r, prior) : (['email', 'sms'] as const);
    const states = named.map((channel) => ({ channel, status: priorStateOf(prior, listId, channel).status }));
    const leaving = states.filter((s) => s.status === 'subscribed' || s.status === 'pending');
    const result = leaving.length > 0 ? 'unsubscribed' as const : states.some((s) => s.status === 'unsubscribed') ? 'already-unsubscribed' as const : 'not-on-list' as const;
    if (leaving.length === 0) return { write: null, answer: result };
    return {
      write: {
        data: {}, leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [],
        subscriptions: leaving.map((s) => ({ listId, channel: s.channel, status: 'unsubscribed' as const, reason: 'user' as const })),
      },
      answer: result,
    };
  });
  if (!applied.ok) throw new Error('an unsubscribe writes no e-mail address');
  if (applied.answer === null) return { ok: false, reason: 'not-found' };
  return { ok: true, result: applied.answer, recipientId: applied.recipientId! };
}

export type RecipientStatusOutcome =
  | { readonly ok: true; readonly status: SubscriptionStatus | 'none'; readonly channel: Channel; readonly recipient: RecipientState | null }
  | { readonly ok: false; readonly reason: RecipientInputRefusal | 'unknown-list' };

/**
 * The recipient's status on the list: on the e-mail channel when the call names an e-mail (or,
 * named by id, when it has one), else on the SMS channel; 'none' for a recipient not on the list
 * or not in the account.
 */
export async function recipientStatus(store: Store, accountId: number, listId: number, who: RecipientName): Promise<RecipientStatusOutcome> {
  const checked = checkRecipient(who, { country: await store.lists.getListCountry(accountId, listId) });
  if (!checked.ok) return checked;
  if ((await store.lists.getList(accountId, listId)) === null) return { ok: false, reason: 'unknown-list' };
  const r = checked.value;
  const state = await store.recipients.getRecipient(accountId, recipientKey(r));
  const channel = channelsNamed(r, state)[0] ?? 'email';
  return { ok: true, status: priorStateOf(state, listId, channel).status, channel, recipient: state };
}

export interface UpdateRequest {
  readonly accountId: number;
  /** The recipient and its new data: found by id, else e-mail, else mobile; a new e-mail or mobile given is written. */
  readonly recipient: RecipientInput;
  /** The list the recipient must be on (in any state, on any channel); null for none (REST PUT Recipient/Detail). */
  readonly listId: number | null;
  /** Groups to join within `listId` (required with groups); with `replaceGroups`, the list's other groups are left. */
  readonly groupIds?: readonly number[];
  readonly replaceGroups?: boolean;
  /** An existing mobile (or, named by id, e-mail) that differs: 'update' writes the new one, 'refuse' changes nothing. */
  readonly keyMismatch: 'update' | 'refuse';
  readonly emptyFieldsClear?: boolean;
}

export type UpdateOutcome =
  | { readonly ok: true; readonly recipientId: number; readonly recipient: RecipientState }
  | { readonly ok: false; readonly reason: RecipientInputRefusal | 'unknown-list' | 'unknown-group' | 'not-found' | 'not-on-list' | 'key-mismatch' | 'email-taken' };

/** Updates an existing recipient's data (e-mail, mobile, name, fields) and its groups in a list; its subscriptions stay as they are. */
export async function updateRecipient(store: Store, request: UpdateRequest): Promise<UpdateOutcome> {
  const country = request.listId === null ? null : await store.lists.getListCountry(request.accountId, request.listId);
  const checked = checkRecipient(request.recipient, { emptyFieldsClear: request.emptyFieldsClear, country });
  if (!checked.ok) return checked;
  const groupIds = [...new Set(request.groupIds ?? [])];
  const { listId } = request;
  if (listId === null && (groupIds.length > 0 || request.replaceGroups)) return { ok: false, reason: 'unknown-group' };
  const refusal = listId === null ? null : await checkListsAndGroups(store, request.accountId, [listId], groupIds);
  if (refusal !== null) return { ok: false, reason: refusal };
  const listGroups = listId === null || !request.replaceGroups ? new Set<number>() : new Set((await store.lists.getGroups(listId)).map((g) => g.id));
  const r = checked.value;
  // Named by id, the e-mail given is the new one; otherwise it named the recipient.
  const applied = await store.recipients.applyRecipientChange(request.accountId, recipientKey(r), (prior) => {
    if (prior === null) return { write: null, answer: 'not-found' as const };
    const stored = prior.recipient;
    if (listId !== null && !prior.subscriptions.some((s) => s.listId === listId)) return { write: null, answer: 'not-on-list' as const };
    const differs = (given: string | null, kept: string | null): boolean => given !== null && kept !== null && given !== kept;
    if (request.keyMismatch === 'refuse' && (differs(r.mobile, stored.mobile) || differs(r.email, stored.email))) {
      return { write: null, answer: 'key-mismatch' as const };
    }
    return {
      write: {
        data: {
          ...(r.email !== null && r.email !== stored.email ? { email: r.email } : {}),
          ...(r.mobile !== null && r.mobile !== stored.mobile ? { mobile: r.mobile } : {}),
          ...(r.name !== null ? { name: r.name } : {}),
          fields: r.fields,
        },
        subscriptions: [], leaveLists: [], confirmations: [], joinGroups: groupIds,
        leaveGroups: prior.groupIds.filter((g) => listGroups.has(g) && !groupIds.includes(g)),
      },
      answer: 'updated' as const,
    };
  });
  if (!applied.ok) return applied;
  if (applied.answer !== 'updated') return { ok: false, reason: applied.answer };
  const recipient = await store.recipients.getRecipient(request.accountId, { id: applied.recipientId! });
  if (recipient === null) return { ok: false, reason: 'not-found' };
  return { ok: true, recipientId: applied.recipientId!, recipient };
}

export type MembershipOutcome = { readonly ok: true; readonly group: Group; readonly changed: boolean } | { readonly ok: false; readonly reason: 'not-found' | 'unknown-group' };

/** Puts an existing recipient into a group of the account (its subscriptions stay as they are). */
export function joinGroup(store: Store, accountId: number, recipientId: number, groupId: number): Promise<MembershipOutcome> {
  return changeMembership(store, accountId, recipientId, groupId, true);
}

/** Takes a recipient out of a group; it stays on the group's list. */
export function leaveGroup(store: Store, accountId: number, recipientId: number, groupId: number): Promise<MembershipOutcome> {
  return changeMembership(store, accountId, recipientId, groupId, false);
}

async function changeMembership(store: Store, accountId: number, recipientId: number, groupId: number, join: boolean): Promise<MembershipOutcome> {
  const group = await store.lists.getGroup(accountId, groupId);
  if (group === null) return { ok: false, reason: 'unknown-group' };
  const applied = await store.recipients.applyRecipientChange(accountId, { id: recipientId }, (prior) => {
    if (prior === null) return { write: null, answer: null };
    const member = prior.groupIds.includes(groupId);
    if (member === join) return { write: null, answer: false };
    return {
      write: { data: {}, subscriptions: [], leaveLists: [], confirmations: [], joinGroups: join ? [groupId] : [], leaveGroups: join ? [] : [groupId] },
      answer: true,
    };
  });
  if (!applied.ok || applied.answer === null) return { ok: false, reason: 'not-found' };
  return { ok: true, group, changed: applied.answer };
}

/** Takes a recipient off a list altogether: its subscriptions there (every state) and its groups of that list. */
export async function removeFromList(
  store: Store, accountId: number, recipientId: number, listId: number,
): Promise<{ readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly reason: 'unknown-list' | 'not-found' }> {
  if ((await store.lists.getList(accountId, listId)) === null) return { ok: false, reason: 'unknown-list' };
  const listGroups = new Set((await store.lists.getGroups(listId)).map((g) => g.id));
  const applied = await store.recipients.applyRecipientChange(accountId, { id: recipientId }, (prior) => {
    if (prior === null) return { write: null, answer: null };
    const on = prior.subscriptions.some((s) => s.listId === listId) || prior.groupIds.some((g) => listGroups.has(g));
    if (!on) return { write: null, answer: false };
    return { write: { data: {}, subscriptions: [], leaveLists: [listId], joinGroups: [], leaveGroups: [], confirmations: [] }, answer: true };
  });
  if (!applied.ok || applied.answer === null) return { ok: false, reason: 'not-found' };
  return { ok: true, changed: applied.answer };
}

/** Removes a recipient from the account with everything about it; false when the account has no such recipient. */
export function removeRecipient(store: Store, accountId: number, recipientId: number): Promise<boolean> {
  return store.recipients.removeRecipient(accountId, recipientId);
}
