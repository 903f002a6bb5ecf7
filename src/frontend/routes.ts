/**
 * MailUp's HTTP subscribe API ("frontend" calls, spec Part 1) on the web service's port:
 * `/frontend/xmlSubscribe.aspx`, `Xmlchksubscriber.aspx`, `xmlUnSubscribe.aspx`,
 * `XmlUpdSubscriber.aspx` (and `subscribe.aspx`), by GET and by POST, page and parameter names in
 * any case. Every answer is a bare code in text/plain (xmlSubscribe says a short sentence instead
 * unless `retCode=1`), with HTTP 200, but for a body that is too large (413) and a caller over its
 * rate (429): those carry the generic error code 1 too, so a client that reads only the body sees
 * an error.
 *
 * Each call, in this order:
 * 1. the caller's address takes a token from its bucket (src/core/rate-limit.ts; before the body
 *    is read);
 * 2. the parameters are read from the query and the form body (./parameters.ts);
 * 3. the account is the one owning the first `List` (list ids are unique across accounts); an
 *    unknown list, or a disabled account, answers 1;
 * 4. the caller's address must be on that account's HTTP-API allow-list, on every page: -1011;
 * 5. `ListGuid`, when given, must be a GUID naming the same list(s) (comma separated, position
 *    by position): 1 otherwise, as the Magento module's connection test with a GUID that is no
 *    GUID expects;
 * 6. the page runs (./pages.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpApiAllows } from '../core/http-api-access.ts';
import { MAX_RATE_KEYS, RateLimiter } from '../core/rate-limit.ts';
import type { Config } from '../config.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { MailingList } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import { GENERIC_ERROR, PAGES, subscribeAnswer, type PageAnswer } from './pages.ts';
import { guidList, idList, param, readParams, type Params } from './parameters.ts';

/** The code MailUp answers to a caller whose address is not registered for the account. */
export const IP_NOT_REGISTERED = -1011;

/** Largest body a page reads: its parameters are a few hundred bytes; a bigger body is refused with 413. */
export const MAX_FRONTEND_BODY = 64 * 1024;

export interface FrontendOptions {
  readonly ctx: {
    readonly store: Store;
    readonly mail: ConfirmationDeps;
    /** HTTP_API_CALLS_PER_SECOND and HTTP_API_BURST: the calls each caller address may make. */
    readonly config: Pick<Config, 'httpApiCallsPerSecond' | 'httpApiBurst'>;
  };
}

const HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function send(reply: FastifyReply, answer: PageAnswer, status = 200): FastifyReply {
  return reply.code(status).headers(HEADERS).type('text/plain; charset=utf-8').send(answer.text ?? String(answer.code));
}

export async function frontendRoutes(app: FastifyInstance, { ctx }: FrontendOptions): Promise<void> {
  const limiter = new RateLimiter({ burst: ctx.config.httpApiBurst, perSecond: ctx.config.httpApiCallsPerSecond, maxKeys: MAX_RATE_KEYS });

  // Bodies are read here as text, whatever their type, and parsed as a form (./parameters.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_FRONTEND_BODY }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err: { statusCode?: number }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'HTTP subscribe API call failed');
    return send(reply, { code: GENERIC_ERROR }, status);
  });

  // Before the body is read: a caller over its rate costs nothing more.
  app.addHook('onRequest', async (request, reply) => {
    const taken = limiter.take(request.ip);
    if (taken.ok) return;
    reply.header('retry-after', String(taken.retryAfterSeconds));
    return send(reply, { code: GENERIC_ERROR }, 429);
  });

  for (const [name, page] of Object.entries(PAGES)) {
    app.route({
      method: ['GET', 'POST'],
      url: `/frontend/${name}`,
      // A HEAD (a link checker) must not subscribe anybody.
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const fail = (params: Params | null, code: number): FastifyReply =>
          send(reply, page.textAnswers && params !== null ? subscribeAnswer(params, code) : { code });
        const body = formBody(request);
        const params = body === null ? null : readParams(request.raw.url ?? '', body);
        if (params === null) return fail(null, GENERIC_ERROR);
        const found = await findLists(ctx.store, params, page.severalLists);
        if (found === null) return fail(params, GENERIC_ERROR);
        const { account, lists } = found;
        if (!httpApiAllows(account, request.ip)) return fail(params, IP_NOT_REGISTERED);
        if (!guidsMatch(param(params, 'ListGuid'), lists)) return fail(params, GENERIC_ERROR);
        return send(reply, await page.run({ params, account, lists, mail: ctx.mail }));
      },
    });
  }
}

/** The body as a form (urlencoded, text or untyped; empty is fine); null for another type with content (JSON, multipart). */
function formBody(request: FastifyRequest): string | null {
  const body = typeof request.body === 'string' ? request.body : '';
  if (body.trim() === '') return '';
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === '' || type === 'application/x-www-form-urlencoded' || type === 'text/plain' ? body : null;
}

/** The account and lists `List` names: every list the first one's account's; null otherwise (or when the account is disabled). */
async function findLists(store: Store, params: Params, several: boolean) {
  const ids = idList(param(params, 'List'));
  if (ids === null || ids.length === 0 || (!several && ids.length > 1)) return null;
  const first = await store.recipients.findListById(ids[0]!);
  if (first === null) return null;
  const account = await store.accounts.getAccount(first.accountId);
  if (account === null || !account.wsEnabled) return null;
  const lists: MailingList[] = [first];
  for (const id of ids.slice(1)) {
    const list = await store.lists.getList(account.id, id);
    if (list === null) return null;
    lists.push(list);
  }
  return { account, lists };
}

/** ListGuid, when given: GUIDs matching the lists position by position (fewer GUIDs check fewer lists). */
function guidsMatch(text: string, lists: readonly MailingList[]): boolean {
  const guids = guidList(text);
  if (guids === null || guids.length > lists.length) return false;
  return guids.every((g, i) => lists[i]!.guid === g);
}
