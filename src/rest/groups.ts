/**
 * Groups of a list (spec §2.5, §2.6), through the core's group rules (src/core/groups.ts), the
 * same as SOAP CreateGroup, the console and the admin CLI:
 *
 * - `GET List/{idList}/Groups`: envelope of `{"Count":null,"Deletable":true,"Name","Notes","idGroup","idList"}`;
 * - `POST List/{idList}/Group` `{"Name","Notes","Deletable"}` → the group. The name is trimmed
 *   and cut to 50 characters; a name the list already has (without regard to case) gives back
 *   that group, as CreateGroup does, rather than a second one;
 * - `PUT List/{idList}/Group/{idGroup}` `{"Name","Notes"}` → the group renamed and/or with new notes;
 * - `DELETE List/{idList}/Group/{idGroup}` → 200; the recipients leave the group and stay on the list.
 *
 * Every group here is deletable: `Deletable` is answered true, and accepted (a boolean) and
 * ignored in bodies. A list or group that is not the account's is 404, as an unknown one is.
 * Bodies take the members above in any case; the group's read-only members (`idGroup`, `idList`,
 * `Count`) are accepted and ignored, so a client may send back a group as it got it; any other
 * member is a 400 naming it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkGroupNotes, createGroup, deleteGroup, groupName, MAX_GROUP_NAME, MAX_GROUP_NOTES, renameGroup, setGroupNotes, type GroupNotesRefusal } from '../core/groups.ts';
import type { Group, MailingList } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import type { RestDeps } from './deps.ts';
import { badRequest, notFound } from './errors.ts';
import { applyQuery, type QueryFields } from './query-expression.ts';
import { booleanMember, bodyMembers, collectionQueryOf, jsonObjectBody, pageOf, pathId, restAuth, sendJson, sendOk, stringMember } from './request.ts';

/** A group as the REST API answers it. */
export interface RestGroup {
  readonly Count: null;
  readonly Deletable: boolean;
  readonly Name: string;
  readonly Notes: string;
  readonly idGroup: number;
  readonly idList: number;
}

export const restGroupOf = (g: Group): RestGroup => ({ Count: null, Deletable: true, Name: g.name, Notes: g.notes ?? '', idGroup: g.id, idList: g.listId });

const GROUP_FIELDS: QueryFields = { Deletable: 'boolean', Name: 'string', Notes: 'string', idGroup: 'number', idList: 'number' };
const WRITABLE = ['Name', 'Notes', 'Deletable'] as const;
const READ_ONLY = ['idGroup', 'idList', 'Count'] as const;

const NOTES_REFUSALS: Record<GroupNotesRefusal, string> = {
  'notes-too-long': `Notes can have at most ${MAX_GROUP_NOTES} characters.`,
  'notes-control-character': 'Notes cannot hold control characters (tab and line breaks are fine).',
};
const NAME_REFUSALS = {
  'empty-name': 'Name is empty; a group needs a name.',
  'control-character': 'Name cannot hold control characters.',
} as const;

/** The account's list the path names, or 404. */
async function listOf(store: Store, request: FastifyRequest): Promise<MailingList> {
  const idList = pathId(request, 'idList');
  const list = await store.lists.getList(restAuth(request).account.id, idList);
  if (list === null) throw notFound(`List ${idList} does not exist in this account.`);
  return list;
}

/** The group the path names, when it belongs to the list the path names; or 404. */
async function groupOf(store: Store, request: FastifyRequest): Promise<Group> {
  const list = await listOf(store, request);
  const idGroup = pathId(request, 'idGroup');
  const group = await store.lists.getGroup(list.accountId, idGroup);
  if (group === null || group.listId !== list.id) throw notFound(`Group ${idGroup} does not exist in list ${list.id}.`);
  return group;
}

/** The writable members of a group body: Name and Notes (null when absent), Deletable checked and dropped. */
function groupBody(request: FastifyRequest): { name: string | null; notes: string | null } {
  const members = bodyMembers(jsonObjectBody(request, 'a group ({"Name","Notes","Deletable"})'), WRITABLE, READ_ONLY);
  booleanMember(members, 'Deletable');
  const notes = stringMember(members, 'Notes');
  if (notes !== null) {
    const refusal = checkGroupNotes(notes);
    if (refusal !== null) throw badRequest(NOTES_REFUSALS[refusal]);
  }
  return { name: stringMember(members, 'Name'), notes };
}

export function registerGroupRoutes(app: FastifyInstance, { ctx }: RestDeps): void {
  const { store } = ctx;

  app.get('/List/:idList/Groups', async (request, reply) => {
    const list = await listOf(store, request);
    const query = collectionQueryOf(request, GROUP_FIELDS);
    const groups = (await store.lists.getGroups(list.id)).map(restGroupOf);
    return sendJson(reply, pageOf(applyQuery(groups, query, (g, field) => (g as unknown as Record<string, unknown>)[field]), query.paging));
  });

  app.post('/List/:idList/Group', async (request, reply) => {
    const list = await listOf(store, request);
    const { name, notes } = groupBody(request);
    if (name === null) throw badRequest('Name is missing; a group needs a name.');
    const outcome = await createGroup(store, list.id, name, notes ?? '');
    if (!outcome.ok) throw badRequest(outcome.reason in NAME_REFUSALS ? NAME_REFUSALS[outcome.reason as keyof typeof NAME_REFUSALS] : NOTES_REFUSALS[outcome.reason as GroupNotesRefusal]);
    if (outcome.cut) request.log.info({ listId: list.id, name: outcome.group.name }, `REST group name cut to ${MAX_GROUP_NAME} characters`);
    return sendJson(reply, restGroupOf(outcome.group));
  });

  app.put('/List/:idList/Group/:idGroup', async (request, reply) => {
    const group = await groupOf(store, request);
    const accountId = restAuth(request).account.id;
    const { name, notes } = groupBody(request);
    if (name === null && notes === null) throw badRequest('Nothing to change: give Name, Notes or both.');
    if (name !== null && groupName(name).name === '') throw badRequest(NAME_REFUSALS['empty-name']);
    let changed = group;
    if (name !== null) {
      const renamed = await renameGroup(store, accountId, group.id, name);
      if (!renamed.ok) {
        if (renamed.reason === 'not-found') throw notFound(`Group ${group.id} does not exist in list ${group.listId}.`);
        if (renamed.reason === 'duplicate') throw badRequest(`Another group of list ${group.listId} is already named "${groupName(name).name}".`);
        throw badRequest(NAME_REFUSALS[renamed.reason]);
      }
      changed = renamed.group;
    }
    if (notes !== null) {
      const noted = await setGroupNotes(store, accountId, group.id, notes);
      if (!noted.ok) throw noted.reason === 'not-found' ? notFound(`Group ${group.id} does not exist in list ${group.listId}.`) : badRequest(NOTES_REFUSALS[noted.reason]);
      changed = noted.group;
    }
    return sendJson(reply, restGroupOf(changed));
  });

  app.delete('/List/:idList/Group/:idGroup', async (request, reply) => {
    const group = await groupOf(store, request);
    const outcome = await deleteGroup(store, restAuth(request).account.id, group.id);
    if (!outcome.ok) {
      if (outcome.reason === 'not-found') throw notFound(`Group ${group.id} does not exist in list ${group.listId}.`);
      throw badRequest(`Group ${group.id} is named by an import that has not finished; delete it once that import has ended.`);
    }
    request.log.info({ listId: group.listId, groupId: group.id }, 'group deleted over REST');
    return sendOk(reply);
  });
}
