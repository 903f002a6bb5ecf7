/**
 * `GET Recipient/DynamicFields`: the recipient fields 1 to 39 with their descriptions, in
 * MailUp's paging envelope (20 per page unless pageSize says otherwise). The names are the
 * core's (src/core/dynamic-fields.ts).
 */
import type { FastifyInstance } from 'fastify';
import { DYNAMIC_FIELDS } from '../core/dynamic-fields.ts';
import type { RestDeps } from './deps.ts';
import { applyQuery, type QueryFields } from './query-expression.ts';
import { collectionQueryOf, pageOf, sendJson } from './request.ts';

export interface RestDynamicField {
  readonly Description: string;
  readonly Id: number;
}

const FIELDS: readonly RestDynamicField[] = DYNAMIC_FIELDS.map((f) => ({ Description: f.description, Id: f.id }));
const QUERY_FIELDS: QueryFields = { Description: 'string', Id: 'number' };

export function registerFieldRoutes(app: FastifyInstance, _deps: RestDeps): void {
  app.get('/Recipient/DynamicFields', async (request, reply) => {
    const query = collectionQueryOf(request, QUERY_FIELDS);
    const fields = applyQuery(FIELDS, query, (f, field) => (f as unknown as Record<string, unknown>)[field]);
    return sendJson(reply, pageOf(fields, query.paging));
  });
}
