/**
 * The account's lists (spec §2.5, §2.6):
 *
 * - `GET User/Lists`: envelope of `{"Company","Description","Name","idList","listGuid"}`;
 * - `GET List`: the same lists as MailUp's `Console/List` spells them (`IdList`, `ListGuid`).
 *
 * A REST login is the account's WS user, which sees every list of the account. Lists have no
 * company or description here: both are "". `filterby`/`orderby` take the members of each shape.
 */
import type { FastifyInstance } from 'fastify';
import type { MailingList } from '../model/records.ts';
import type { RestDeps } from './deps.ts';
import { applyQuery, type QueryFields } from './query-expression.ts';
import { collectionQueryOf, pageOf, restAuth, sendJson } from './request.ts';

/** A list as `GET User/Lists` answers it. */
export interface RestUserList {
  readonly Company: string;
  readonly Description: string;
  readonly Name: string;
  readonly idList: number;
  readonly listGuid: string;
}

/** A list as `GET List` answers it. */
export interface RestConsoleList {
  readonly Company: string;
  readonly Description: string;
  readonly IdList: number;
  readonly ListGuid: string;
  readonly Name: string;
}

export const userListOf = (l: MailingList): RestUserList => ({ Company: '', Description: '', Name: l.name, idList: l.id, listGuid: l.guid });
const consoleListOf = (l: MailingList): RestConsoleList => ({ Company: '', Description: '', IdList: l.id, ListGuid: l.guid, Name: l.name });

const USER_LIST_FIELDS: QueryFields = { Company: 'string', Description: 'string', Name: 'string', idList: 'number', listGuid: 'string' };
const CONSOLE_LIST_FIELDS: QueryFields = { Company: 'string', Description: 'string', IdList: 'number', ListGuid: 'string', Name: 'string' };

const member = (item: object, field: string): unknown => (item as Record<string, unknown>)[field];

export function registerListRoutes(app: FastifyInstance, { ctx }: RestDeps): void {
  app.get('/User/Lists', async (request, reply) => {
    const query = collectionQueryOf(request, USER_LIST_FIELDS);
    const lists = (await ctx.store.lists.listLists(restAuth(request).account.id)).map(userListOf);
    return sendJson(reply, pageOf(applyQuery(lists, query, member), query.paging));
  });

  app.get('/List', async (request, reply) => {
    const query = collectionQueryOf(request, CONSOLE_LIST_FIELDS);
    const lists = (await ctx.store.lists.listLists(restAuth(request).account.id)).map(consoleListOf);
    return sendJson(reply, pageOf(applyQuery(lists, query, member), query.paging));
  });
}
