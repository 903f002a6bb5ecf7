/**
 * The REST API's asynchronous bulk import and what follows it (spec 2.5-2.7):
 *
 * - `POST List/{idList}/Recipients`, `POST Group/{idGroup}/Recipients`: a JSON array of
 *   recipients → the import id, a bare JSON number, as soon as the body is stored. The import is
 *   a process like one started over SOAP (one import, one process; the same engine, worker,
 *   leases and crash recovery), started at once or queued behind the account's running import.
 *   Query: `ConfirmEmail`, `importType=asOptin|asOptout`, `clearMissingOrEmptyFields`,
 *   `removeFromPrevGroups` (group imports); names and values in any case.
 * - `GET Import/{idImport}`: the import's status; `GET Imports/{idImport}`: its detail.
 * - `GET Import/{idImport}/Sending`: the confirmation mailing of an import with ConfirmEmail;
 *   `POST Email/Sendings/{id}/Immediate` sends it (Send Now, src/core/send-now.ts);
 *   `.../Deferred` is refused: this server has no scheduler.
 *
 * The body is read as the SOAP feeds are (src/http/service-endpoint.ts): under the byte cap
 * (BODY_LIMIT), the minimum upload rate, the concurrent-upload gate and the shutdown deadline,
 * which the HTTP layer hands in (`uploads`); its rows are stored in chunks while it streams
 * (src/import/feed-upload.ts), never held whole. A body the import cannot take is answered 400
 * naming the element and the fault, and its partial feed is deleted: nothing is stored.
 * docs/behaviour.md ("REST bulk import") says what each count and option means here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { DYNAMIC_FIELD_COUNT } from '../core/dynamic-fields.ts';
import { bulkImportOptions, startOrQueueImport } from '../core/imports.ts';
import { sendConfirmations } from '../core/send-now.ts';
import { feedLeaseMs } from '../import/abandoned-feeds.ts';
import { FEED_CHUNK_ROWS, FeedUpload } from '../import/feed-upload.ts';
import { JsonFeedReader } from '../import/json-feed-reader.ts';
import { rejectKind } from '../import/normalise-row.ts';
import type { ImportProcess, MailingList } from '../model/records.ts';
import { ProtocolError } from '../protocol/faults.ts';
import type { RestDeps } from './deps.ts';
import { badRequest, notFound, RestError } from './errors.ts';
import { booleanParam, pathId, queryParam, restAuth, sendJson } from './request.ts';
import { importDetailOf, importStatusOf, restDate } from './import-status.ts';

/** The query parameters each bulk import takes; any other is refused, naming it (a misspelt ConfirmEmail must not import without it). */
const BULK_IMPORT_PARAMS = ['ConfirmEmail', 'importType', 'clearMissingOrEmptyFields', 'removeFromPrevGroups'] as const;

/** What the query of a bulk import asks. */
interface BulkQuery {
  readonly confirmEmail: boolean;
  readonly asOptOut: boolean;
  readonly clearMissingOrEmptyFields: boolean;
  readonly removeFromPrevGroups: boolean;
}

function bulkQueryOf(request: FastifyRequest, groupImport: boolean): BulkQuery {
  const known = new Set(BULK_IMPORT_PARAMS.map((n) => n.toLowerCase()));
  const unknown = Object.keys((request.query ?? {}) as object).filter((k) => !known.has(k.toLowerCase()));
  if (unknown.length > 0) {
    throw badRequest(`Unknown query parameter ${unknown.map((k) => `"${k}"`).join(', ')}; a bulk import takes ${BULK_IMPORT_PARAMS.join(', ')}.`);
  }
  const importType = (queryParam(request, 'importType') ?? '').trim();
  if (!/^(asOptin|asOptout)?$/i.test(importType)) throw badRequest(`importType must be asOptin or asOptout, not "${importType}".`);
  const removeFromPrevGroups = booleanParam(request, 'removeFromPrevGroups');
  if (removeFromPrevGroups && !groupImport) {
    throw badRequest('removeFromPrevGroups applies to imports into a group (POST Group/{idGroup}/Recipients) only.');
  }
  return {
    confirmEmail: booleanParam(request, 'ConfirmEmail'),
    asOptOut: importType.toLowerCase() === 'asoptout',
    clearMissingOrEmptyFields: booleanParam(request, 'clearMissingOrEmptyFields'),
    removeFromPrevGroups,
  };
}

/** A failure of the HTTP body reading (too slow, server busy or shutting down, too large), as a REST answer. */
const restErrorOf = (err: unknown): unknown =>
  err instanceof ProtocolError ? new RestError(err.httpStatus, err.message, err.headers) : err;

const EMPTY_BODY = 'The body is empty: it must be a JSON array of recipients, [{"Email": …}, …].';

const bodyTooLarge = (limit: number): RestError =>
  new RestError(413, `The request body is larger than ${limit} bytes (BODY_LIMIT), the most one import takes.`);

export function registerImportRoutes(app: FastifyInstance, deps: RestDeps): void {
  const { ctx } = deps;
  const { store, config } = ctx;
  const uploads = deps.uploads;

  /** Stores the body as a feed and starts (or queues) its import; answers the process. */
  async function bulkImport(request: FastifyRequest, response: ServerResponse, list: MailingList, groupId: number | null): Promise<ImportProcess> {
    const account = restAuth(request).account;
    const query = bulkQueryOf(request, groupId !== null);
    const checked = await bulkImportOptions(store, list, { ...query, groupId });
    if (!checked.ok) throw badRequest(checked.reason === 'unknown-group' ? `Group ${groupId} is not a group of list ${list.id}.` : 'The import options are not valid.');
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > config.bodyLimit) throw bodyTooLarge(config.bodyLimit);
    // fastify hands no stream for a body it knows to be empty (Content-Length: 0).
    const body = request.body as Readable | undefined;
    if (body === undefined || body === null) throw badRequest(EMPTY_BODY);
    if (!uploads) throw new RestError(503, 'Bulk imports are not available on this server.');
    try {
      await uploads.admit(response);
    } catch (err) {
      throw restErrorOf(err);
    }
    const writer = store.feeds.openFeedWriter(account.id, { leaseMs: feedLeaseMs(config) });
    const upload = new FeedUpload(Promise.resolve({ value: null, writer }), FEED_CHUNK_ROWS, new JsonFeedReader({ maxFieldId: DYNAMIC_FIELD_COUNT, maxRows: config.maxRestImportRows }));
    try {
      let bytes = 0;
      try {
        for await (const chunk of uploads.read(body)) {
          bytes += chunk.length;
          if (bytes > config.bodyLimit) throw bodyTooLarge(config.bodyLimit);
          upload.write(chunk);
          await upload.flush();
          // The first fault ends the request: the rest of the body is drained unread (lingering close).
          if (upload.failure !== null) throw badRequest(upload.failure);
        }
      } catch (err) {
        throw restErrorOf(err);
      }
      const outcome = await upload.finish();
      if (outcome.kind === 'empty') throw badRequest(EMPTY_BODY);
      if (outcome.kind !== 'stored') throw badRequest(outcome.kind === 'malformed' ? outcome.reason : 'The body could not be read.');
      const process = await startOrQueueImport(ctx.operations, account.id, outcome.feed, list.id, checked.options);
      upload.adopt();
      request.log.info({ processId: process.id, listId: list.id, groupId, rows: outcome.feed.totalRows, queued: process.queued }, 'REST bulk import accepted');
      return process;
    } finally {
      await upload.release();
    }
  }

  /** The account's list the path names, or 404 (another account's list is not told apart from none). */
  async function listOf(request: FastifyRequest): Promise<MailingList> {
    const idList = pathId(request, 'idList');
    const list = await store.lists.getList(restAuth(request).account.id, idList);
    if (list === null) throw notFound(`List ${idList} does not exist in this account.`);
    return list;
  }

  /** The account's import the path names, or 404. */
  async function importOf(request: FastifyRequest, param = 'idImport'): Promise<ImportProcess> {
    const id = pathId(request, param);
    const process = await store.processes.getProcess(restAuth(request).account.id, id);
    if (process === null) throw notFound(`Import ${id} does not exist in this account.`);
    return process;
  }

  /** The import of a confirmation mailing (its id is the import's), or 404 when the import asked for none. */
  async function mailingOf(request: FastifyRequest, param: string): Promise<ImportProcess> {
    const process = await importOf(request, param);
    if (!process.options.ConfirmEmail) {
      throw notFound(`Import ${process.id} did not ask for ConfirmEmail: it has no confirmation mailing.`);
    }
    return process;
  }

  const raw = { config: { rawBody: true } };

  app.post('/List/:idList/Recipients', raw, async (request, reply) => {
    const list = await listOf(request);
    return sendJson(reply, (await bulkImport(request, reply.raw, list, null)).id);
  });

  app.post('/Group/:idGroup/Recipients', raw, async (request, reply) => {
    const idGroup = pathId(request, 'idGroup');
    const accountId = restAuth(request).account.id;
    const group = await store.lists.getGroup(accountId, idGroup);
    const list = group === null ? null : await store.lists.getList(accountId, group.listId);
    if (group === null || list === null) throw notFound(`Group ${idGroup} does not exist in this account.`);
    return sendJson(reply, (await bulkImport(request, reply.raw, list, group.id)).id);
  });

  app.get('/Import/:idImport', async (request, reply) => sendJson(reply, importStatusOf(await importOf(request))));

  app.get('/Imports/:idImport', async (request, reply) => {
    const process = await importOf(request);
    const reasons = await store.processes.rejectReasons(process.accountId, process.id);
    return sendJson(reply, importDetailOf(process, reasons, rejectKind, (d) => restDate(d, config.timeZone)));
  });

  app.get('/Import/:idImport/Sending', async (request, reply) => {
    const process = await mailingOf(request, 'idImport');
    return sendJson(reply, { idMessage: process.id, idList: process.listId });
  });

  app.post('/Email/Sendings/:idSending/Immediate', async (request, reply) => {
    const process = await mailingOf(request, 'idSending');
    if (process.status === 1 || process.status === 2) {
      throw badRequest(`Import ${process.id} has not completed yet: send its confirmation mailing once GET Import/${process.id} answers Completed true.`);
    }
    const report = await sendConfirmations(ctx.mail, process.accountId, process.id);
    return sendJson(reply, {
      InvalidRecipients: report.failures.filter((f) => f.permanent).map((f) => ({ Email: f.email, Error: f.error })),
      Sent: report.sent + report.written_to_outbox,
      UnprocessedRecipients: report.failures.filter((f) => !f.permanent).map((f) => ({ Email: f.email, Error: f.error })),
      idMessage: process.id,
    });
  });

  app.post('/Email/Sendings/:idSending/Deferred', async (request) => {
    const process = await mailingOf(request, 'idSending');
    throw badRequest(`Deferred sending is not supported by this server: send the confirmation mailing of import ${process.id} with POST Email/Sendings/${process.id}/Immediate.`);
  });
}
