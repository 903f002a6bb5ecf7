/**
 * Imports over the JSON API:
 *
 * - `GET /api/imports?status=&list=&limit=&cursor=`: the account's processes, newest first, paged.
 * - `GET /api/imports/{idProcess}`: one process (src/core/import-details.ts: the GetProcessDetails
 *   numbers, options, run, rows merged, rejected rows by reason, failure reason).
 * - `GET /api/imports/{idProcess}/rejects`: the reject report, paged JSON; with `Accept: text/csv`
 *   the whole report as the console's CSV (src/core/reject-report.ts).
 * - `POST /api/imports/{idProcess}/cancel` and `/start`: src/core/import-control.ts, as the console
 *   and the admin CLI; the WS user is who cancelled.
 *
 * Paging (every listing of the API): `limit` (1–1000, default 50) and `cursor`, the `next` of the
 * previous page; answers `{ items, next }` (null `next` on the last page). Cursors are keyset
 * positions, so a page never repeats or skips a row when others are added meanwhile.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { csvChunks } from '../core/csv.ts';
import { importDetails, summariseImport } from '../core/import-details.ts';
import { cancelImport, CONTROL_REFUSAL_TEXT, startWaitingImport } from '../core/import-control.ts';
import { rejectPage, rejectReportCsvLines } from '../core/reject-report.ts';
import type { ProcessStatusFilter } from '../store/queries.ts';
import { apiAccount, ApiError, type ApiDeps } from './deps.ts';
import {
  AUTH_ERRORS, errors, idProcessParams, importDetailsSchema, importSummarySchema, nextSchema, pagingProperties, rejectedRowSchema,
} from './schemas.ts';

const STATUS_FILTERS: Readonly<Record<string, ProcessStatusFilter>> = {
  1: 'waiting', 2: 'running', 3: 'completed', 4: 'failed', waiting: 'waiting', running: 'running', completed: 'completed', failed: 'failed',
};

interface Paging {
  readonly limit: number;
  readonly cursor?: string;
}

const notFound = (idProcess: number): ApiError => new ApiError(404, `Import process ${idProcess} does not exist in this account.`);

export function registerImportRoutes(app: FastifyInstance, { ctx }: ApiDeps): void {
  const { store } = ctx;

  app.get('/imports', {
    schema: {
      summary: 'The account\'s import processes, newest first',
      tags: ['imports'],
      querystring: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: Object.keys(STATUS_FILTERS), description: 'Only processes in this state: 1–4 or its name.' },
          list: { type: 'integer', minimum: 1, description: 'Only processes importing into this list (its id).' },
          ...pagingProperties,
        },
        additionalProperties: false,
      },
      response: {
        200: { type: 'object', required: ['items', 'next'], properties: { items: { type: 'array', items: importSummarySchema }, next: nextSchema } },
        ...errors(400, ...AUTH_ERRORS, 404),
      },
    },
  }, async (request) => {
    const owner = apiAccount(request);
    const query = request.query as Paging & { status?: string; list?: number };
    if (query.list !== undefined && (await store.lists.getList(owner.id, query.list)) === null) {
      throw new ApiError(404, `List ${query.list} does not exist in this account.`);
    }
    const page = await store.queries.consoleProcesses(owner.id, {
      status: query.status === undefined ? 'all' : STATUS_FILTERS[query.status]!,
      listIds: query.list === undefined ? null : [query.list],
      ...(query.cursor === undefined ? {} : { olderThan: Number(query.cursor) }),
      limit: query.limit,
    });
    return { items: page.items.map(summariseImport), next: page.hasNext ? String(page.items.at(-1)!.id) : null };
  });

  app.get('/imports/:idProcess', {
    schema: {
      summary: 'One import process',
      tags: ['imports'],
      params: idProcessParams,
      response: { 200: importDetailsSchema, ...errors(400, ...AUTH_ERRORS, 404) },
    },
  }, async (request) => {
    const { idProcess } = request.params as { idProcess: number };
    const details = await importDetails(store, apiAccount(request).id, idProcess);
    if (details === null) throw notFound(idProcess);
    return details;
  });

  app.get('/imports/:idProcess/rejects', {
    schema: {
      summary: 'The rows the import rejected, with row number and reason (JSON pages, or the whole CSV with Accept: text/csv)',
      tags: ['imports'],
      params: idProcessParams,
      querystring: { type: 'object', properties: pagingProperties, additionalProperties: false },
      response: {
        200: {
          description: 'A page of rejected rows in row order; with `Accept: text/csv`, the whole report as CSV (UTF-8 with a byte-order mark): '
            + '`row,reason,email,Prefix,Number,Name,campoN…`.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['items', 'total', 'next'],
                properties: { items: { type: 'array', items: rejectedRowSchema }, total: { type: 'integer', description: 'Rejected rows in all.' }, next: nextSchema },
              },
            },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        ...errors(400, ...AUTH_ERRORS, 404),
      },
    },
  }, async (request, reply) => {
    const owner = apiAccount(request);
    const { idProcess } = request.params as { idProcess: number };
    const process = await store.processes.getProcess(owner.id, idProcess);
    if (process === null) throw notFound(idProcess);
    if (wantsCsv(request.headers.accept)) return sendCsv(reply, `import-${idProcess}-rejects.csv`, rejectReportCsvLines(store, owner.id, idProcess));
    const query = request.query as Paging;
    const page = await rejectPage(store, owner.id, idProcess, { ...(query.cursor === undefined ? {} : { afterRow: Number(query.cursor) }), limit: query.limit });
    return reply.type('application/json; charset=utf-8').send({
      items: page.items, total: process.rejected, next: page.hasNext ? String(page.items.at(-1)!.row) : null,
    });
  });

  app.post('/imports/:idProcess/cancel', {
    schema: {
      summary: 'Cancel a waiting or running import (with the waiting processes of its run)',
      tags: ['imports'],
      params: idProcessParams,
      response: {
        200: {
          type: 'object',
          required: ['cancelled', 'import'],
          properties: { cancelled: { type: 'array', items: { type: 'integer' }, description: 'The processes ended, the one named first.' }, import: importDetailsSchema },
        },
        ...errors(400, ...AUTH_ERRORS, 404, 409),
      },
    },
  }, async (request) => {
    const owner = apiAccount(request);
    const { idProcess } = request.params as { idProcess: number };
    const result = await cancelImport(ctx.operations, owner.id, idProcess, owner.wsUser);
    if (!result.ok) throw result.reason === 'not-found' ? notFound(idProcess) : new ApiError(409, `Import process ${idProcess}: ${CONTROL_REFUSAL_TEXT[result.reason]}.`);
    return { cancelled: result.cancelled, import: await importDetails(store, owner.id, idProcess) };
  });

  app.post('/imports/:idProcess/start', {
    schema: {
      summary: 'Start an import that was prepared and never started; it waits its turn when the account runs another',
      tags: ['imports'],
      params: idProcessParams,
      response: {
        200: {
          type: 'object',
          required: ['queued', 'behindListId', 'import'],
          properties: {
            queued: { type: 'boolean', description: 'True when it waits its turn behind the account\'s running import.' },
            behindListId: { type: ['integer', 'null'], description: 'The list of the running import it waits behind.' },
            import: importDetailsSchema,
          },
        },
        ...errors(400, ...AUTH_ERRORS, 404, 409),
      },
    },
  }, async (request) => {
    const owner = apiAccount(request);
    const { idProcess } = request.params as { idProcess: number };
    const result = await startWaitingImport(ctx.operations, owner.id, idProcess);
    if (!result.ok) throw result.reason === 'not-found' ? notFound(idProcess) : new ApiError(409, `Import process ${idProcess}: ${CONTROL_REFUSAL_TEXT[result.reason]}.`);
    return { queued: result.queued, behindListId: result.behindListId, import: await importDetails(store, owner.id, idProcess) };
  });
}

/** Whether the Accept header asks for CSV rather than JSON (CSV listed, JSON not listed before it). */
function wantsCsv(accept: string | undefined): boolean {
  const types = (accept ?? '').toLowerCase().split(',').map((t) => t.split(';')[0]!.trim());
  const csv = types.indexOf('text/csv');
  const json = types.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json);
}

function sendCsv(reply: FastifyReply, filename: string, lines: AsyncIterable<string>): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(Readable.from(csvChunks(lines), { objectMode: false, encoding: 'utf8' }));
}
