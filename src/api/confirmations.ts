/**
 * Double opt-in over the JSON API (the confirm link itself, `GET /confirm/:token`, is in
 * src/http/confirm-routes.ts):
 *
 * - `POST /api/confirmations/send-now`: MailUp's "Send Now". Body `{}` for everything the account
 *   has queued, `{ "processId": 12 }` for one process, `"retryFailed": true` to try permanent
 *   failures again. Answers the counts as JSON.
 * - `GET /api/confirmations[?processId=12]`: requests per process and the failures.
 * - `GET /api/confirmations/outbox[?limit=50]`: the messages written to the outbox.
 *
 * Their requests are checked here, by hand, with the messages these routes have always given;
 * the schemas describe them for the OpenAPI document (the routes' validator accepts everything).
 */
import type { FastifyInstance } from 'fastify';
import { sendConfirmations } from '../core/send-now.ts';
import { apiAccount, ApiError, type ApiDeps } from './deps.ts';
import { AUTH_ERRORS, errors } from './schemas.ts';

/** These routes check their input themselves (above); the schemas are for the document. */
const documentOnly = { validatorCompiler: () => () => true } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

export function registerConfirmationRoutes(app: FastifyInstance, { ctx }: ApiDeps): void {
  async function checkProcess(accountId: number, processId: number | null): Promise<void> {
    if (processId === null) return;
    const process = await ctx.store.processes.getProcess(accountId, processId);
    if (process === null) throw new ApiError(404, `Import process ${processId} does not exist in this account.`);
    if (!process.options.ConfirmEmail) throw new ApiError(409, `Import process ${processId} did not ask for ConfirmEmail: it has no confirmation requests.`);
  }

  app.post('/confirmations/send-now', {
    ...documentOnly,
    schema: {
      summary: 'Send the queued confirmation requests (MailUp\'s Send Now)',
      tags: ['confirmations'],
      body: {
        type: 'object',
        properties: { processId: { type: 'integer', minimum: 1 }, retryFailed: { type: 'boolean' } },
        additionalProperties: false,
      },
      response: { 200: { ...anyObject, description: 'The counts of the requests sent, written to the outbox, failed and left.' }, ...errors(400, ...AUTH_ERRORS, 404, 409) },
    },
  }, async (request, reply) => {
    const owner = apiAccount(request);
    const body = sendNowBody(request.body);
    await checkProcess(owner.id, body.processId);
    const report = await sendConfirmations(ctx.mail, owner.id, body.processId, { retryFailed: body.retryFailed });
    return reply.type('application/json; charset=utf-8').send(report);
  });

  app.get('/confirmations', {
    ...documentOnly,
    schema: {
      summary: 'Confirmation requests per import process, and the failures',
      tags: ['confirmations'],
      querystring: { type: 'object', properties: { processId: { type: 'integer', minimum: 1 } } },
      response: { 200: anyObject, ...errors(400, ...AUTH_ERRORS, 404, 409) },
    },
  }, async (request, reply) => {
    const owner = apiAccount(request);
    const query = request.query as Record<string, string | undefined>;
    const processId = query.processId === undefined ? null : positiveId(query.processId, 'processId');
    await checkProcess(owner.id, processId);
    const [processes, failures] = await Promise.all([
      ctx.store.confirmations.confirmationSummary(owner.id, processId, { limit: 200 }),
      ctx.store.confirmations.confirmationFailures(owner.id, processId, { limit: 500 }),
    ]);
    return reply.type('application/json; charset=utf-8').send({
      processes: processes.map((p) => ({ ...p, confirmationSent: p.confirmationSentAt !== null })),
      failures,
    });
  });

  app.get('/confirmations/outbox', {
    ...documentOnly,
    schema: {
      summary: 'The messages written to the outbox, newest first',
      tags: ['confirmations'],
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } },
      response: { 200: anyObject, ...errors(400, ...AUTH_ERRORS) },
    },
  }, async (request, reply) => {
    const owner = apiAccount(request);
    const query = request.query as Record<string, string | undefined>;
    const limit = query.limit === undefined ? 50 : Math.min(positiveId(query.limit, 'limit'), 1000);
    return reply.type('application/json; charset=utf-8').send({ messages: await ctx.store.confirmations.listOutbox(owner.id, { limit }) });
  });
}

function positiveId(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new ApiError(400, `${name} must be a positive whole number.`);
  return n;
}

function sendNowBody(body: unknown): { processId: number | null; retryFailed: boolean } {
  if (body === undefined || body === null) return { processId: null, retryFailed: false };
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'The body must be a JSON object such as {} or {"processId": 12}.');
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => k !== 'processId' && k !== 'retryFailed');
  if (unknown.length > 0) throw new ApiError(400, `Unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}: expected processId and retryFailed.`);
  if (fields.retryFailed !== undefined && typeof fields.retryFailed !== 'boolean') throw new ApiError(400, 'retryFailed must be true or false.');
  return {
    processId: fields.processId === undefined || fields.processId === null ? null : positiveId(fields.processId, 'processId'),
    retryFailed: fields.retryFailed === true,
  };
}
