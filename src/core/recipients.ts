/**
 * Subscribing one recipient, the same through every door that does it one at a time (the HTTP
 * subscribe API's xmlSubscribe, the REST API's POST …/Recipient and …/Subscribe/{id}). The rest
 * of what single-recipient calls do (unsubscribe, check, update, groups, removal) is in
 * ./recipient-changes.ts.
 *
 * The state rules are the import's (src/import/subscription-rules.ts), per list and channel:
 * double opt-in is the import's ConfirmEmail, a subscribe without it is the import's asPending
 * (a pending recipient is subscribed at once), and `forceOptIn` is the import's flag of that
 * name. One rule differs, on purpose: with double opt-in, a recipient already subscribed stays
 * subscribed and gets no request (an import's ConfirmEmail asks it again), since a visitor who
 * subscribes twice must not lose the subscription. docs/behaviour.md has the whole table.
 *
 * The change is planned against the recipient as the store reads it inside its transaction (the
 * imports' plan → write split: `planSubscribe` below is pure, the store only writes), and a
 * confirmation request it queues is delivered at once, with the account's default confirmation
 * message and the same confirm link as an import's. A delivery that fails leaves the request for
 * the next Send Now, like any other.
 */
import { applySubscriptionRules, type ImportFlags } from '../import/subscription-rules.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { Channel, PriorState, SubscriptionStatus } from '../model/subscription.ts';
import type { ConfirmationToQueue, PlannedChange, RecipientKey, RecipientState, SubscriptionSet } from '../store/recipients.ts';
import type { Store } from '../store/store.ts';
import { checkRecipient, senderFrom, type CheckedRecipient, type RecipientInput, type RecipientInputRefusal } from './recipient-input.ts';
import { sendConfirmations } from './send-now.ts';

export interface SubscribeRequest {
  readonly accountId: number;
  /** The lists to subscribe to (at least one), the account's. */
  readonly listIds: readonly number[];
  /** Groups to join, each of one of `listIds`. */
  readonly groupIds?: readonly number[];
  readonly recipient: RecipientInput;
  /** Double opt-in: the recipient becomes pending and is sent a confirmation request at once. */
  readonly confirm: boolean;
  /** A recipient unsubscribed by the user or an import subscribes again (never after a bounce or complaint). */
  readonly forceOptIn?: boolean;
  /**
   * An existing recipient whose stored mobile (or, named by id, e-mail) differs from the one
   * given: 'update' writes the new one (HTTP), 'refuse' changes nothing (REST's key mismatch).
   */
  readonly keyMismatch: 'update' | 'refuse';
  /**
   * Write the recipient's data (name, fields, groups) even when its subscriptions do not change
   * (REST: an existing recipient is updated). Otherwise they are written only with a change of
   * status, a new request or a new e-mail or mobile (HTTP: "already subscribed" changes nothing).
   */
  readonly alwaysUpdate?: boolean;
  /** With several lists, the list whose request carries the others (one message confirms all); default the first. */
  readonly confirmListId?: number | null;
  /** The confirmation request's From (HTTP Dynsndmail, dynsndname); default the message's sender. */
  readonly sender?: { readonly email: string | null; readonly name?: string | null } | null;
  /** The subscriber's address, recorded with the opt-in. */
  readonly requestIp?: string | null;
  /** An empty field value clears the stored one (otherwise it keeps it). */
  readonly emptyFieldsClear?: boolean;
}

/** What happened on one list and channel. */
export interface ChannelOutcome {
  readonly listId: number;
  readonly channel: Channel;
  readonly before: PriorState;
  readonly after: SubscriptionStatus;
  readonly changed: boolean;
  readonly confirmationRequested: boolean;
}

export type SubscribeRefusal = RecipientInputRefusal | 'unknown-list' | 'unknown-group' | 'not-found' | 'key-mismatch' | 'email-taken' | 'invalid-sender';

export interface Subscribed {
  readonly ok: true;
  readonly recipientId: number;
  readonly created: boolean;
  /**
   * done: a subscription changed, a request was queued, or a new e-mail or mobile was written;
   * already-subscribed: subscribed on every list and channel asked; kept-unsubscribed: some stay
   * unsubscribed (no forceOptIn, or a bounce or a complaint) and nothing else changed.
   */
  readonly result: 'done' | 'already-subscribed' | 'kept-unsubscribed';
  readonly channels: readonly ChannelOutcome[];
  /** The request queued (one for every list of the call), and whether it went out at once. */
  readonly confirmation: { readonly requestIds: readonly number[]; readonly delivered: boolean } | null;
}

export type SubscribeOutcome = Subscribed | { readonly ok: false; readonly reason: SubscribeRefusal };

/** The store key of a checked recipient: its id, else its e-mail, else its mobile (as an import matches rows). */
export function recipientKey(r: Pick<CheckedRecipient, 'id' | 'email' | 'mobile'>): RecipientKey {
  if (r.id !== null) return { id: r.id };
  return r.email !== null ? { email: r.email } : { mobile: r.mobile! };
}

/** The recipient's state on one list and channel, as the import rules read it. */
export function priorStateOf(prior: RecipientState | null, listId: number, channel: Channel): PriorState {
  const s = prior?.subscriptions.find((x) => x.listId === listId && x.channel === channel);
  if (!s) return { status: 'none' };
  return s.status === 'unsubscribed' ? { status: 'unsubscribed', reason: s.reason ?? 'user' } : { status: s.status };
}

/** The channels a call concerns: those it names an address for, or (named by id alone) those the recipient has. */
export function channelsNamed(r: Pick<CheckedRecipient, 'email' | 'mobile'>, prior: RecipientState | null): Channel[] {
  const named: Channel[] = [...(r.email !== null ? ['email' as const] : []), ...(r.mobile !== null ? ['sms' as const] : [])];
  if (named.length > 0) return named;
  return [...(prior?.recipient.email ? ['email' as const] : []), ...(prior?.recipient.mobile ? ['sms' as const] : [])];
}

/** Lists and groups the account has, and the groups within those lists; a refusal otherwise. */
export async function checkListsAndGroups(
  store: Store, accountId: number, listIds: readonly number[], groupIds: readonly number[],
): Promise<'unknown-list' | 'unknown-group' | null> {
  if (listIds.length === 0) return 'unknown-list';
  for (const listId of new Set(listIds)) if ((await store.lists.getList(accountId, listId)) === null) return 'unknown-list';
  for (const groupId of new Set(groupIds)) {
    const group = await store.lists.getGroup(accountId, groupId);
    if (group === null || !listIds.includes(group.listId)) return 'unknown-group';
  }
  return null;
}

type PlanAnswer = { readonly refused: SubscribeRefusal } | { readonly result: Subscribed['result']; readonly channels: ChannelOutcome[] };

export async function subscribeRecipient(mail: ConfirmationDeps, request: SubscribeRequest): Promise<SubscribeOutcome> {
  const { store } = mail;
  // A number without a country code is read in the first list's country (docs/behaviour.md, "Mobile numbers").
  const country = request.listIds.length > 0 ? await store.lists.getListCountry(request.accountId, request.listIds[0]!) : null;
  const checked = checkRecipient(request.recipient, { emptyFieldsClear: request.emptyFieldsClear, country });
  if (!checked.ok) return checked;
  const listIds = [...new Set(request.listIds)];
  const groupIds = [...new Set(request.groupIds ?? [])];
  const refusal = await checkListsAndGroups(store, request.accountId, listIds, groupIds);
  if (refusal !== null) return { ok: false, reason: refusal };
  if (request.confirmListId != null && !listIds.includes(request.confirmListId)) return { ok: false, reason: 'unknown-list' };
  const sender = senderFrom(request.sender?.email, request.sender?.name);
  if (sender === false) return { ok: false, reason: 'invalid-sender' };
  const r = checked.value;

  const applied = await store.recipients.applyRecipientChange(request.accountId, recipientKey(r), (prior) =>
    planSubscribe(prior, r, { ...request, listIds, groupIds, sender }));
  if (!applied.ok) return applied;
  const answer = applied.answer;
  if ('refused' in answer) return { ok: false, reason: answer.refused };
  let confirmation: Subscribed['confirmation'] = null;
  if (applied.requestIds.length > 0) confirmation = { requestIds: applied.requestIds, delivered: await deliverNow(mail, request.accountId, applied.requestIds) };
  return { ok: true, recipientId: applied.recipientId!, created: applied.created, result: answer.result, channels: answer.channels, confirmation };
}

/**
 * Sends the requests just queued, one attempt: a caller waiting for its answer must not wait for
 * retries. A request not delivered stays queued (or failed, with its retry time) for Send Now.
 */
async function deliverNow(mail: ConfirmationDeps, accountId: number, requestIds: readonly number[]): Promise<boolean> {
  try {
    const report = await sendConfirmations({ ...mail, retry: { ...mail.retry, attemptsPerRun: 1 } }, accountId, null, { requestIds });
    return report.sent + report.written_to_outbox > 0;
  } catch (err) {
    mail.log?.warn({ accountId, requestIds, error: err instanceof Error ? err.message : String(err) }, 'confirmation request left for Send Now');
    return false;
  }
}

interface PlanRequest extends Omit<SubscribeRequest, 'sender'> {
  readonly listIds: readonly number[];
  readonly groupIds: readonly number[];
  /** The From, checked (senderFrom). */
  readonly sender: string | null;
}

/** What subscribing `r` does to `prior` (pure: it runs inside the store's transaction). */
function planSubscribe(prior: RecipientState | null, r: CheckedRecipient, request: PlanRequest): PlannedChange<PlanAnswer> {
  const refuse = (reason: SubscribeRefusal): PlannedChange<PlanAnswer> => ({ write: null, answer: { refused: reason } });
  if (prior === null && r.id !== null) return refuse('not-found');
  const stored = prior?.recipient ?? null;
  const differs = (given: string | null, kept: string | null | undefined): boolean => given !== null && kept != null && given !== kept;
  if (request.keyMismatch === 'refuse' && (differs(r.mobile, stored?.mobile) || differs(r.email, stored?.email))) return refuse('key-mismatch');
  const newEmail = r.email !== null && r.email !== (stored?.email ?? null);
  const newMobile = r.mobile !== null && r.mobile !== (stored?.mobile ?? null);

  const channels: ChannelOutcome[] = [];
  for (const listId of request.listIds) {
    for (const channel of channelsNamed(r, prior)) {
      const before = priorStateOf(prior, listId, channel);
      const outcome = before.status === 'subscribed' && request.confirm
        // The single-recipient rule: a subscribed recipient is never asked to confirm again.
        ? { status: 'subscribed' as const, requestConfirmation: false, changed: false }
        : applySubscriptionRules(before, subscribeFlags(request, channel));
      channels.push({ listId, channel, before, after: outcome.status, changed: outcome.changed, confirmationRequested: outcome.requestConfirmation });
    }
  }
  const statusChanged = channels.some((c) => c.changed);
  const result: Subscribed['result'] = statusChanged || (prior !== null && (newEmail || newMobile)) ? 'done'
    : channels.every((c) => c.after === 'subscribed') ? 'already-subscribed' : 'kept-unsubscribed';
  const answer = { result, channels };
  if (prior !== null && result !== 'done' && !request.alwaysUpdate) return { write: null, answer };

  const subscriptions: SubscriptionSet[] = channels.filter((c) => c.changed).map((c) => ({
    listId: c.listId, channel: c.channel, status: c.after, reason: null,
    ...(request.requestIp != null && c.after !== 'unsubscribed' ? { requestIp: request.requestIp } : {}),
  }));
  const asking = channels.filter((c) => c.confirmationRequested).map((c) => c.listId);
  const confirmations: ConfirmationToQueue[] = [];
  if (asking.length > 0) {
    // One request (one message) for every list of the call: ConfirmListID's, or the first.
    const main = request.confirmListId != null && asking.includes(request.confirmListId) ? request.confirmListId : asking[0]!;
    confirmations.push({ listId: main, alsoListIds: asking.filter((l) => l !== main), sender: request.sender });
  }
  return {
    write: {
      data: {
        ...(prior === null || newEmail ? { email: r.email } : {}),
        ...(prior === null || newMobile ? { mobile: r.mobile } : {}),
        ...(r.name !== null ? { name: r.name } : {}),
        fields: r.fields,
      },
      subscriptions, leaveLists: [], joinGroups: request.groupIds, leaveGroups: [], confirmations,
    },
    answer,
  };
}

/**
 * A subscribe in the import's flags: double opt-in is ConfirmEmail (on the e-mail channel only,
 * as in an import: the request is an e-mail); without it, asPending (pending ones subscribe).
 */
function subscribeFlags(request: Pick<SubscribeRequest, 'confirm' | 'forceOptIn'>, channel: Channel): ImportFlags {
  const base = { asOptOut: false, forceOptIn: request.forceOptIn === true, replaceGroups: false };
  return request.confirm
    ? { ...base, ConfirmEmail: channel === 'email', asPending: false }
    : { ...base, ConfirmEmail: false, asPending: true };
}
