/**
 * MailUp's REST API v1.1 (spec Part 2), one fastify plugin registered by src/http/app.ts:
 *
 * - `POST /Authorization/OAuth/Token`: OAuth2 (./oauth-routes.ts);
 * - `/API/v1.1/Rest/ConsoleService.svc/Console/...`: the resources, one module per concept
 *   (ROUTE_MODULES), each a RestRouteModule (./deps.ts).
 *
 * In the REST scope, for every route, in this order: an `Accept` that wants XML only is refused
 * (406: this server answers JSON); the bearer token is checked (401 with MailUp's error body when
 * it is missing, unknown, expired or revoked; 403 when the account's IP check refuses the
 * caller); the account's calls per second are counted (429 past REST_MAX_CALLS_PER_SECOND); the
 * body is parsed as JSON (./json-body.ts). Every refusal and error is answered with MailUp's
 * error body (./errors.ts); a path that names no resource (messages, campaigns, SMS, statistics:
 * everything outside the subset this server builds) gets 404 with it. Paths are matched without
 * regard to case (app.ts), query parameter names too (./request.ts).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { authenticateBearer, deleteExpiredTokens, type BearerRefusal } from '../core/oauth.ts';
import { MAX_RATE_KEYS, RateLimiter } from '../core/rate-limit.ts';
import type { RestDeps, RestRouteModule } from './deps.ts';
import { errorBody, RestError, tooManyRequestsMessage } from './errors.ts';
import { registerFieldRoutes } from './fields.ts';
import { registerGroupRoutes } from './groups.ts';
import { registerImportRoutes } from './imports.ts';
import { useJsonBodies } from './json-body.ts';
import { registerListRoutes } from './lists.ts';
import { oauthRoutes } from './oauth-routes.ts';
import { registerRecipientRoutes } from './recipients.ts';
import { sendJson, setRestAuth } from './request.ts';

/** The REST API's base, as MailUp's (`https://services.mailup.com/API/v1.1/Rest/ConsoleService.svc`). */
export const REST_BASE_PATH = '/API/v1.1/Rest/ConsoleService.svc';
/** The console resources' prefix under the base. */
export const REST_CONSOLE_PREFIX = '/Console';

/** The resource modules, registered under `{base}/Console`. A new module is one line here. */
const ROUTE_MODULES: readonly RestRouteModule[] = [registerListRoutes, registerGroupRoutes, registerFieldRoutes, registerImportRoutes, registerRecipientRoutes];

/** How often the token pairs that can no longer be used are deleted. */
const TOKEN_SWEEP_MS = 60 * 60_000;

export interface RestOptions extends RestDeps {
  /**
   * Ends a connection whose request body is still arriving after an early answer (a refused
   * token, a body over the cap), so the client reads the answer rather than a reset
   * (src/http/lingering-close.ts). Called after the answer is given `Connection: close`.
   */
  readonly lingerAfterEarlyAnswer?: (request: IncomingMessage) => void;
}

export async function restRoutes(app: FastifyInstance, options: RestOptions): Promise<void> {
  await app.register(oauthRoutes, { ctx: options.ctx });
  await app.register(restApi, { ...options, prefix: REST_BASE_PATH });
}

const BEARER_MESSAGES: Record<BearerRefusal, [number, string]> = {
  'missing-token': [401, 'Authorization error: Access token is missing (send Authorization: Bearer <access_token>)'],
  'invalid-token': [401, 'Authorization error: Access token is not valid'],
  'expired-token': [401, 'Authorization error: Access token is expired'],
  disabled: [401, 'Authorization error: the account is disabled'],
  'address-refused': [403, "Calls from this address are not allowed by the account's IP check"],
};

/** The token of `Authorization: Bearer <token>`, or null. */
function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

/** An Accept header that takes XML and not JSON (nor anything): this server answers JSON only. */
function wantsXmlOnly(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const types = accept.toLowerCase().split(',').map((t) => t.split(';')[0]!.trim());
  return types.some((t) => t.includes('xml')) && !types.some((t) => t.includes('json') || t === '*/*' || t === 'application/*');
}

const hasUnreadBody = (raw: IncomingMessage): boolean =>
  !raw.complete && (raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0);

async function restApi(app: FastifyInstance, options: RestOptions): Promise<void> {
  const { ctx } = options;
  // A token bucket per account as large as one second's calls: the fixed second MailUp counts in,
  // without letting a client double its rate across a second's boundary.
  const maxPerSecond = ctx.config.restMaxCallsPerSecond;
  const limiter = new RateLimiter({ burst: maxPerSecond, perSecond: maxPerSecond, maxKeys: MAX_RATE_KEYS });
  useJsonBodies(app);

  app.addHook('onRequest', async (request) => {
    if (wantsXmlOnly(request.headers.accept)) throw new RestError(406, 'This server answers JSON only; send Accept: application/json (or none).');
    const outcome = await authenticateBearer(ctx.store, bearerToken(request.headers.authorization), { ip: request.ip });
    if (!outcome.ok) {
      const [status, message] = BEARER_MESSAGES[outcome.reason];
      throw new RestError(status, message, status === 401 ? { 'www-authenticate': 'Bearer realm="MailUp", error="invalid_token"' } : {});
    }
    const rate = limiter.take(String(outcome.account.id));
    if (!rate.ok) throw new RestError(429, tooManyRequestsMessage(maxPerSecond, rate.callsThisSecond), { 'retry-after': String(rate.retryAfterSeconds) });
    setRestAuth(request, { account: outcome.account, clientId: outcome.clientId });
  });

  app.setErrorHandler((err: FastifyError | RestError, request: FastifyRequest, reply: FastifyReply) => {
    let status: number;
    let message: string;
    let headers: Readonly<Record<string, string>> = {};
    if (err instanceof RestError) {
      ({ status, message, headers } = err);
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify's own refusals (a malformed URL, …): their message says what is wrong.
      status = err.statusCode;
      message = err.message;
    } else {
      request.log.error({ err }, 'REST call failed');
      status = 500;
      message = 'Internal error; the call changed nothing it had not completed. Try again later.';
    }
    if (hasUnreadBody(request.raw) && options.lingerAfterEarlyAnswer) {
      reply.header('connection', 'close');
      options.lingerAfterEarlyAnswer(request.raw);
    }
    return sendJson(reply.headers(headers), errorBody(status, message), status);
  });

  // Hooks of this scope run first (a request without a valid token gets 401, not 404).
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0];
    return sendJson(reply, errorBody(404, `No resource at ${request.method} ${path}: this server builds the lists, groups, fields, recipients and imports of the console API only.`), 404);
  });

  await app.register(async (resources) => {
    for (const register of ROUTE_MODULES) register(resources, { ctx, ...(options.uploads ? { uploads: options.uploads } : {}) });
  }, { prefix: REST_CONSOLE_PREFIX });

  let sweep: NodeJS.Timeout | null = null;
  app.addHook('onReady', async () => {
    sweep = setInterval(() => {
      deleteExpiredTokens(ctx.store).catch((err: unknown) => app.log.warn({ err }, 'deleting expired REST tokens failed'));
    }, TOKEN_SWEEP_MS);
    sweep.unref();
  });
  app.addHook('onClose', async () => {
    if (sweep) clearInterval(sweep);
  });
}
