/**
 * Double opt-in over HTTP:
 *
 * - `GET /confirm/:token`: the link in a confirmation message. Moves the recipient from pending to
 *   subscribed and answers a tiny page that says plainly what happened (or why nothing did).
 * - `POST /api/confirmations/send-now`: MailUp's "Send Now". Body `{}` for everything the account
 *   has queued, `{ "processId": 12 }` for one process, `"retryFailed": true` to try permanent
 *   failures again. Answers the counts as JSON.
 * - `GET /api/confirmations[?processId=12]`: requests per process and the failures.
 * - `GET /api/confirmations/outbox[?limit=50]`: the messages written to the outbox.
 *
 * The /api routes authenticate with the account's WS credentials over HTTP Basic, with the same
 * checks as the web service (password, service enabled, IP allow-list).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openConfirmLink, type ConfirmLinkAnswer, type ConfirmLinkResult } from '../core/confirm-link.ts';
import { escapeHtml } from '../xml/escape.ts';
import { sendConfirmations } from '../core/send-now.ts';
import { timeFormat } from '../core/time-format.ts';
import { ATTEMPTS_RETRY_AFTER_SECONDS, authenticateCall } from '../operations/invoke.ts';
import { describeReturnCode } from '../protocol/return-codes.ts';
import type { Account } from '../model/records.ts';
import type { AppContext } from './app-context.ts';
import { basicCredentials } from './service-endpoint.ts';

/** A client error with the status and message it is answered with. */
class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  // The token is in the URL: never hand it on to another site.
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
};

export async function confirmRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  app.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
    const status = err instanceof ApiError ? err.status : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'confirmation request failed');
    return reply.code(status).type('application/json; charset=utf-8')
      .send({ error: status >= 500 ? 'The server could not complete the request.' : err.message });
  });

  // Link checkers and mail scanners send HEAD: only a GET, a person opening the link, confirms.
  app.get('/confirm/:token', { exposeHeadRoute: false }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const answer = await openConfirmLink(ctx.mail, token);
    // Times for people, with their zone (src/core/time-format.ts), not the result strings' format.
    const page = confirmPage(answer, timeFormat(ctx.config.timeZone).text);
    return reply.code(page.status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page.html);
  });

  async function account(request: FastifyRequest, reply: FastifyReply): Promise<Account> {
    const found = await authenticateCall(ctx.operations, basicCredentials(request.headers.authorization), { ip: request.ip });
    if (!('ok' in found)) return found;
    if ('attemptsWaiting' in found) {
      reply.header('retry-after', String(ATTEMPTS_RETRY_AFTER_SECONDS));
      throw new ApiError(429, 'Too many login attempts for this user or from this address are waiting their turn; try again later.');
    }
    const unauthenticated = found.code === -1013 || found.code === -1001 || found.code === -1002;
    if (unauthenticated) reply.header('www-authenticate', 'Basic realm="WSMailUpImport", charset="UTF-8"');
    throw new ApiError(unauthenticated ? 401 : 403, `${describeReturnCode(found.code)} (ReturnCode ${found.code})`);
  }

  async function checkProcess(accountId: number, processId: number | null): Promise<void> {
    if (processId === null) return;
    const process = await ctx.store.processes.getProcess(accountId, processId);
    if (process === null) throw new ApiError(404, `Import process ${processId} does not exist in this account.`);
    if (!process.options.ConfirmEmail) throw new ApiError(409, `Import process ${processId} did not ask for ConfirmEmail: it has no confirmation requests.`);
  }

  app.post('/api/confirmations/send-now', async (request, reply) => {
    const owner = await account(request, reply);
    const body = sendNowBody(request.body);
    await checkProcess(owner.id, body.processId);
    const report = await sendConfirmations(ctx.mail, owner.id, body.processId, { retryFailed: body.retryFailed });
    return reply.type('application/json; charset=utf-8').send(report);
  });

  app.get('/api/confirmations', async (request, reply) => {
    const owner = await account(request, reply);
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

  app.get('/api/confirmations/outbox', async (request, reply) => {
    const owner = await account(request, reply);
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

const PAGES: Record<ConfirmLinkResult, { status: number; title: string; text: (a: ConfirmLinkAnswer, when: string) => string }> = {
  'confirmed': {
    status: 200, title: 'Subscription confirmed',
    text: (a) => `${a.email} is now subscribed to ${a.listName}. Thank you.`,
  },
  'already-confirmed': {
    status: 200, title: 'Already confirmed',
    text: (a, when) => `This link was already used: the subscription of ${a.email} to ${a.listName} was confirmed on ${when}. Nothing was changed.`,
  },
  'already-subscribed': {
    status: 200, title: 'Already subscribed',
    text: (a) => `${a.email} is already subscribed to ${a.listName}. Nothing was changed.`,
  },
  'unsubscribed': {
    status: 409, title: 'Not confirmed: unsubscribed',
    text: (a) => `${a.email} was unsubscribed from ${a.listName} after this confirmation request was sent. The unsubscribe stands: nothing was changed.`,
  },
  'not-found': {
    status: 404, title: 'Confirmation request not found',
    text: () => 'This confirmation request no longer exists, or the address is no longer in the list. Nothing was changed.',
  },
  'invalid': {
    status: 400, title: 'Invalid confirmation link',
    text: () => 'This link is not valid: it was changed or cut short. Nothing was changed. Open the whole link exactly as it is in the e-mail.',
  },
  'expired': {
    status: 400, title: 'Expired confirmation link',
    text: (_a, when) => `This link expired on ${when}. Nothing was changed. Ask for a new confirmation e-mail.`,
  },
};

function confirmPage(answer: ConfirmLinkAnswer, formatDate: (d: Date) => string): { status: number; html: string } {
  const page = PAGES[answer.result];
  const text = page.text(answer, answer.at ? formatDate(answer.at) : '');
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">' +
    `<title>${escapeHtml(page.title)}</title>` +
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222}</style></head>' +
    `<body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  return { status: page.status, html };
}
