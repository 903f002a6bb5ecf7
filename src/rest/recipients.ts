/**
 * One recipient at a time over REST (spec 2.6, 2.7), as thin routes on the core's single-recipient
 * functions (src/core/recipients.ts, recipient-changes.ts), the same the HTTP subscribe API uses:
 *
 * - `POST List/{idList}/Recipient[?ConfirmEmail=true]`, `POST Group/{idGroup}/Recipient[?ConfirmEmail=true]`:
 *   a recipient (./recipient-json.ts) → its id, a bare JSON number. Found by e-mail (else mobile)
 *   and updated, or created; subscribed at once, or pending with a confirmation request sent at
 *   once (ConfirmEmail). One unsubscribed stays unsubscribed (its id is answered; nothing else
 *   changes); one whose stored mobile differs is a key mismatch: 400, nothing changes.
 * - `PUT Recipient/Detail`: a recipient by idRecipient, else by Email → the recipient with all
 *   its fields. Takes an item exactly as the listings answer it (read-only members ignored). As
 *   in an import, a field left out or given empty keeps its value (an item read back carries
 *   every field, "" for those never set) and one of white space only is cleared; subscriptions
 *   do not change.
 * - `GET List/{idList}/Recipients/{Subscribed|Unsubscribed|Pending}` and `GET Group/{idGroup}/Recipients`:
 *   recipients (e-mail channel of the list; a group's members in any state) in MailUp's envelope;
 *   `GET List/{idList}/Recipients/EmailOptins`: every e-mail subscription of the list, by state
 *   (./recipient-json.ts restOptinOf). Paged, `filterby`/`orderby` on Email, Name, idRecipient
 *   (EmailOptins: Email, Status, idRecipient), read by the store's SQL a page at a time.
 * - `GET List/{idList}/Recipient/{idRecipient}/Groups`: the recipient's groups in the list, in
 *   the shape `GET List/{id}/Groups` answers (./groups.ts).
 * - `POST Group/{idGroup}/Subscribe/{idRecipient}`, `DELETE Group/{idGroup}/Unsubscribe/{idRecipient}`:
 *   into or out of a group (its subscriptions stay as they are);
 *   `POST List/{idList}/Subscribe/{idRecipient}`: subscribed again, even after unsubscribing
 *   (never after a bounce or a complaint: 400); `DELETE List/{idList}/Unsubscribe/{idRecipient}`:
 *   unsubscribed (a recipient already off the list stays so: 200);
 *   `DELETE List/{idList}/Recipient/{idRecipient}`: off the list altogether;
 *   `DELETE Recipients/{idRecipient}`: out of the account. Each answers 200 with an empty body,
 *   as MailUp does (mailupy reads the status only), also when there was nothing to change.
 *
 * A list, group or recipient of another account is 404, as an unknown one is (the framework's
 * rule, ./errors.ts). Write calls refuse a query parameter they do not take (a misspelt
 * ConfirmEmail must not subscribe without double opt-in).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { joinGroup, leaveGroup, removeFromList, removeRecipient, unsubscribeRecipient, updateRecipient } from '../core/recipient-changes.ts';
import { checkRecipient, type RecipientInput } from '../core/recipient-input.ts';
import { subscribeRecipient, type SubscribeRefusal } from '../core/recipients.ts';
import type { Group, MailingList } from '../model/records.ts';
import type { SubscriptionStatus } from '../model/subscription.ts';
import type { RecipientCondition, RecipientListItem, RecipientOrder, RecipientScope, RecipientState } from '../store/recipients.ts';
import type { RestContext, RestDeps } from './deps.ts';
import { badRequest, notFound, RestError } from './errors.ts';
import { restGroupOf } from './groups.ts';
import { applyQuery, type Filter, type QueryFields } from './query-expression.ts';
import {
  OPTIN_QUERY_FIELDS, RECIPIENT_ATTRIBUTES, RECIPIENT_QUERY_FIELDS, recipientBody, restOptinOf, restRecipientOf, splitMobile, statusNamed,
  type RecipientBody,
} from './recipient-json.ts';
import { booleanParam, collectionQueryOf, envelope, jsonObjectBody, pageOf, pathId, restAuth, sendJson, sendOk, type CollectionQuery } from './request.ts';

const RECIPIENT_SHAPE = 'a recipient ({"Email","Name","MobilePrefix","MobileNumber","Fields":[{"Id","Value"}]})';
const GROUP_QUERY_FIELDS: QueryFields = { Deletable: 'boolean', Name: 'string', Notes: 'string', idGroup: 'number', idList: 'number' };

/** The listings by state, by their path segment. */
const STATES: ReadonlyArray<readonly [string, SubscriptionStatus]> = [['Subscribed', 'subscribed'], ['Unsubscribed', 'unsubscribed'], ['Pending', 'pending']];

// Looking things up (404 for anything not the account's)

const accountOf = (request: FastifyRequest): number => restAuth(request).account.id;

const unknownList = (id: number): RestError => notFound(`List ${id} does not exist in this account.`);
const unknownGroup = (id: number): RestError => notFound(`Group ${id} does not exist in this account.`);
const unknownRecipient = (id: number): RestError => notFound(`Recipient ${id} does not exist in this account.`);

async function listOf(ctx: RestContext, request: FastifyRequest): Promise<MailingList> {
  const idList = pathId(request, 'idList');
  const list = await ctx.store.lists.getList(accountOf(request), idList);
  if (list === null) throw unknownList(idList);
  return list;
}

async function groupOf(ctx: RestContext, request: FastifyRequest): Promise<Group> {
  const idGroup = pathId(request, 'idGroup');
  const group = await ctx.store.lists.getGroup(accountOf(request), idGroup);
  if (group === null) throw unknownGroup(idGroup);
  return group;
}

async function recipientOf(ctx: RestContext, request: FastifyRequest): Promise<RecipientState> {
  const idRecipient = pathId(request, 'idRecipient');
  const state = await ctx.store.recipients.getRecipient(accountOf(request), { id: idRecipient });
  if (state === null) throw unknownRecipient(idRecipient);
  return state;
}

/** Refuses query parameters a write call does not take, naming them. */
function onlyParams(request: FastifyRequest, allowed: readonly string[]): void {
  const known = new Set(allowed.map((n) => n.toLowerCase()));
  const unknown = Object.keys((request.query ?? {}) as object).filter((k) => !known.has(k.toLowerCase()));
  if (unknown.length === 0) return;
  const takes = allowed.length === 0 ? 'this call takes none' : `this call takes ${allowed.join(', ')}`;
  throw badRequest(`Unknown query parameter ${unknown.map((k) => `"${k}"`).join(', ')}; ${takes}.`);
}

// The core's refusals as MailUp's answers

/** Which part of a recipient the core refused as 'invalid-field': asked of the core, field by field. */
function invalidFieldMessage(input: RecipientInput): string {
  if (input.name && !checkRecipient({ id: 1, name: input.name }).ok) return 'Name cannot hold control characters (tab and line breaks included).';
  for (const [n, value] of Object.entries(input.fields ?? {})) {
    if (!checkRecipient({ id: 1, fields: { [Number(n)]: value } }).ok) {
      return `Fields Id ${n}: the Value is not acceptable (at most 100 characters, or 200 when it is plain ASCII; no control characters).`;
    }
  }
  return 'A field value is not acceptable (at most 100 characters, or 200 when it is plain ASCII; no control characters).';
}

const quoted = (text: string | null): string => `"${text ?? ''}"`;

/** A refusal of the core about a recipient body, as a REST answer naming what is wrong. */
async function refusalError(
  ctx: RestContext, accountId: number, reason: SubscribeRefusal | 'not-on-list', body: RecipientBody, where: { listId?: number; groupId?: number },
): Promise<RestError> {
  switch (reason) {
    case 'invalid-email':
      return badRequest(`Email ${quoted(body.email)} is not a valid e-mail address (one @, a domain with a dot, at most 50 characters).`);
    case 'invalid-mobile':
      return badRequest(`MobilePrefix ${quoted(body.mobilePrefix)} and MobileNumber ${quoted(body.mobileNumber)} are not a valid mobile number `
        + '(the country code, with + or 00, and the number: 6 to 15 digits in all).');
    case 'no-address':
      return badRequest(body.id === null && body.email === null
        ? 'The recipient has no Email and no MobileNumber; give at least one (or idRecipient, where the call takes it).'
        : 'The recipient has no Email and no MobileNumber; give at least one.');
    case 'invalid-field':
      return badRequest(invalidFieldMessage(body.input));
    case 'unknown-list':
      return unknownList(where.listId ?? 0);
    case 'unknown-group':
      return unknownGroup(where.groupId ?? 0);
    case 'not-found':
    case 'not-on-list':
      return unknownRecipient(body.id ?? 0);
    case 'email-taken': {
      const holder = body.email === null ? null : await ctx.store.recipients.getRecipient(accountId, { email: body.email.trim().toLowerCase() });
      return badRequest(`Email ${quoted(body.email)} belongs to another recipient of this account${holder ? ` (idRecipient ${holder.recipient.id})` : ''}; nothing was changed.`);
    }
    case 'key-mismatch':
      return badRequest(await keyMismatchMessage(ctx, accountId, body));
    case 'invalid-sender':
      return badRequest('The confirmation request has no valid sender.');
  }
}

/** Names the stored key that differs from the one the body gives. */
async function keyMismatchMessage(ctx: RestContext, accountId: number, body: RecipientBody): Promise<string> {
  const email = body.input.email?.trim().toLowerCase() ?? null;
  const stored = body.id !== null ? await ctx.store.recipients.getRecipient(accountId, { id: body.id })
    : email !== null ? await ctx.store.recipients.getRecipient(accountId, { email }) : null;
  if (stored === null) return 'Key mismatch: the e-mail address and the mobile number name different recipients; nothing was changed.';
  const r = stored.recipient;
  const mobile = splitMobile(r.mobile);
  const given = `MobilePrefix ${quoted(body.mobilePrefix)}, MobileNumber ${quoted(body.mobileNumber)}`;
  return `Key mismatch: recipient ${r.id} (${r.email ?? 'no e-mail'}) has the mobile number MobilePrefix ${quoted(mobile.MobilePrefix)}, `
    + `MobileNumber ${quoted(mobile.MobileNumber)}, not ${given}; nothing was changed. Change a recipient's keys with PUT Recipient/Detail.`;
}

// Listings

/** The store's conditions and order for a listing's query; `Status` is left to the caller. */
function storeQuery(query: CollectionQuery): { filter: RecipientCondition[]; order: RecipientOrder[]; offset: number; limit: number } {
  const filter: RecipientCondition[] = [];
  for (const c of query.filter) {
    if (c.field === 'Status') continue;
    const attribute = RECIPIENT_ATTRIBUTES[c.field]!;
    // Addresses are kept lower-case and trimmed: an Email is compared in that form.
    const value = attribute === 'email' ? String(c.value).trim().toLowerCase() : c.value;
    filter.push({ attribute, op: c.op, value: value as string | number });
  }
  const order = query.order.map((o) => {
    if (o.field === 'Status') throw badRequest('orderby: Status cannot be ordered by; order EmailOptins by Email or idRecipient.');
    return { attribute: RECIPIENT_ATTRIBUTES[o.field]!, direction: o.direction };
  });
  const { pageNumber, pageSize } = query.paging;
  return { filter, order, offset: pageNumber * pageSize, limit: pageSize };
}

/** The state `Status=='…'` conditions ask for (null: any); 400 for a Contains, an unknown word or two different states. */
function statusFilter(filter: Filter): SubscriptionStatus | null {
  const states = new Set<SubscriptionStatus>();
  for (const c of filter) {
    if (c.field !== 'Status') continue;
    if (c.op !== 'equals') throw badRequest("filterby: Status takes == only, as in Status=='OPTIN' (OPTIN, OPTOUT or PENDING).");
    const status = statusNamed(String(c.value));
    if (status === null) throw badRequest(`filterby: Status "${String(c.value)}" is not OPTIN, OPTOUT or PENDING.`);
    states.add(status);
  }
  if (states.size > 1) throw badRequest('filterby: Status is compared with two different states; a subscription has one.');
  return [...states][0] ?? null;
}

async function sendListing<T>(
  ctx: RestContext, request: FastifyRequest, reply: FastifyReply, scope: RecipientScope, query: CollectionQuery,
  render: (item: RecipientListItem) => T, missing: () => RestError,
): Promise<FastifyReply> {
  const page = await ctx.store.recipients.listRecipients(accountOf(request), scope, storeQuery(query));
  if (page === null) throw missing();
  return sendJson(reply, envelope(page.items.map(render), page.total, query.paging));
}

// Routes

export function registerRecipientRoutes(app: FastifyInstance, { ctx }: RestDeps): void {
  const { store } = ctx;

  /** POST …/Recipient into `listId` (and `groupId`): the recipient's id. */
  async function subscribeOne(request: FastifyRequest, reply: FastifyReply, list: MailingList, group: Group | null): Promise<FastifyReply> {
    onlyParams(request, ['ConfirmEmail']);
    const confirm = booleanParam(request, 'ConfirmEmail');
    const body = recipientBody(jsonObjectBody(request, RECIPIENT_SHAPE));
    // A new recipient is found by its address: an idRecipient in the body (an item sent back) is not read here.
    const { email, mobile, mobilePrefix, name, fields } = body.input;
    const input: RecipientInput = { email, mobile, mobilePrefix, name, fields };
    const accountId = accountOf(request);
    const outcome = await subscribeRecipient(ctx.mail, {
      accountId, listIds: [list.id], ...(group ? { groupIds: [group.id] } : {}), recipient: input, confirm, keyMismatch: 'refuse', alwaysUpdate: true,
    });
    if (!outcome.ok) throw await refusalError(ctx, accountId, outcome.reason, { ...body, id: null, input }, { listId: list.id, ...(group ? { groupId: group.id } : {}) });
    request.log.info({ listId: list.id, groupId: group?.id, recipientId: outcome.recipientId, result: outcome.result, confirm }, 'REST recipient subscribed');
    return sendJson(reply, outcome.recipientId);
  }

  app.post('/List/:idList/Recipient', async (request, reply) => subscribeOne(request, reply, await listOf(ctx, request), null));

  app.post('/Group/:idGroup/Recipient', async (request, reply) => {
    const group = await groupOf(ctx, request);
    const list = await store.lists.getList(accountOf(request), group.listId);
    if (list === null) throw unknownGroup(group.id);
    return subscribeOne(request, reply, list, group);
  });

  app.put('/Recipient/Detail', async (request, reply) => {
    onlyParams(request, []);
    const body = recipientBody(jsonObjectBody(request, `${RECIPIENT_SHAPE.slice(0, -1)} with its idRecipient or Email)`));
    const accountId = accountOf(request);
    const outcome = await updateRecipient(store, { accountId, recipient: body.input, listId: null, keyMismatch: 'update' });
    if (!outcome.ok) {
      if (outcome.reason === 'not-found' && body.id === null) throw notFound(`No recipient of this account has the Email ${quoted(body.email)}.`);
      throw await refusalError(ctx, accountId, outcome.reason, body, {});
    }
    return sendJson(reply, restRecipientOf(outcome.recipient.recipient));
  });

  for (const [segment, status] of STATES) {
    app.get(`/List/:idList/Recipients/${segment}`, async (request, reply) => {
      const idList = pathId(request, 'idList');
      const query = collectionQueryOf(request, RECIPIENT_QUERY_FIELDS);
      return sendListing(ctx, request, reply, { listId: idList, status, channel: 'email' }, query, restRecipientOf, () => unknownList(idList));
    });
  }

  app.get('/List/:idList/Recipients/EmailOptins', async (request, reply) => {
    const idList = pathId(request, 'idList');
    const query = collectionQueryOf(request, OPTIN_QUERY_FIELDS);
    const status = statusFilter(query.filter);
    const timeZone = ctx.config.timeZone;
    return sendListing(ctx, request, reply, { listId: idList, status, channel: 'email' }, query, (item) => restOptinOf(item, timeZone), () => unknownList(idList));
  });

  app.get('/Group/:idGroup/Recipients', async (request, reply) => {
    const idGroup = pathId(request, 'idGroup');
    const query = collectionQueryOf(request, RECIPIENT_QUERY_FIELDS);
    return sendListing(ctx, request, reply, { groupId: idGroup }, query, restRecipientOf, () => unknownGroup(idGroup));
  });

  app.get('/List/:idList/Recipient/:idRecipient/Groups', async (request, reply) => {
    const list = await listOf(ctx, request);
    const recipient = await recipientOf(ctx, request);
    const query = collectionQueryOf(request, GROUP_QUERY_FIELDS);
    const groups = (await store.recipients.recipientGroups(list.accountId, recipient.recipient.id, list.id)).map(restGroupOf);
    return sendJson(reply, pageOf(applyQuery(groups, query, (g, field) => (g as unknown as Record<string, unknown>)[field]), query.paging));
  });

  app.post('/Group/:idGroup/Subscribe/:idRecipient', async (request, reply) => {
    onlyParams(request, []);
    const idGroup = pathId(request, 'idGroup');
    const idRecipient = pathId(request, 'idRecipient');
    const outcome = await joinGroup(store, accountOf(request), idRecipient, idGroup);
    if (!outcome.ok) throw outcome.reason === 'unknown-group' ? unknownGroup(idGroup) : unknownRecipient(idRecipient);
    return sendOk(reply);
  });

  app.delete('/Group/:idGroup/Unsubscribe/:idRecipient', async (request, reply) => {
    onlyParams(request, []);
    const idGroup = pathId(request, 'idGroup');
    const idRecipient = pathId(request, 'idRecipient');
    const outcome = await leaveGroup(store, accountOf(request), idRecipient, idGroup);
    if (!outcome.ok) throw outcome.reason === 'unknown-group' ? unknownGroup(idGroup) : unknownRecipient(idRecipient);
    return sendOk(reply);
  });

  app.post('/List/:idList/Subscribe/:idRecipient', async (request, reply) => {
    onlyParams(request, []);
    const idList = pathId(request, 'idList');
    const idRecipient = pathId(request, 'idRecipient');
    const outcome = await subscribeRecipient(ctx.mail, {
      accountId: accountOf(request), listIds: [idList], recipient: { id: idRecipient }, confirm: false, forceOptIn: true, keyMismatch: 'refuse',
    });
    if (!outcome.ok) throw outcome.reason === 'unknown-list' ? unknownList(idList) : unknownRecipient(idRecipient);
    if (outcome.result === 'kept-unsubscribed') {
      const reasons = [...new Set(outcome.channels.flatMap((c) => (c.before.status === 'unsubscribed' && c.after === 'unsubscribed' ? [c.before.reason] : [])))];
      throw badRequest(`Recipient ${idRecipient} was unsubscribed from list ${idList} after a ${reasons.join(' and a ') || 'bounce'}; `
        + 'such a recipient is never subscribed again by a call.');
    }
    return sendOk(reply);
  });

  app.delete('/List/:idList/Unsubscribe/:idRecipient', async (request, reply) => {
    onlyParams(request, []);
    const idList = pathId(request, 'idList');
    const idRecipient = pathId(request, 'idRecipient');
    const outcome = await unsubscribeRecipient(store, accountOf(request), idList, { id: idRecipient });
    if (!outcome.ok) throw outcome.reason === 'unknown-list' ? unknownList(idList) : unknownRecipient(idRecipient);
    return sendOk(reply);
  });

  app.delete('/List/:idList/Recipient/:idRecipient', async (request, reply) => {
    onlyParams(request, []);
    const idList = pathId(request, 'idList');
    const idRecipient = pathId(request, 'idRecipient');
    const outcome = await removeFromList(store, accountOf(request), idRecipient, idList);
    if (!outcome.ok) throw outcome.reason === 'unknown-list' ? unknownList(idList) : unknownRecipient(idRecipient);
    return sendOk(reply);
  });

  app.delete('/Recipients/:idRecipient', async (request, reply) => {
    onlyParams(request, []);
    const idRecipient = pathId(request, 'idRecipient');
    if (!(await removeRecipient(store, accountOf(request), idRecipient))) throw unknownRecipient(idRecipient);
    request.log.info({ recipientId: idRecipient }, 'REST recipient removed from the account');
    return sendOk(reply);
  });
}
