/**
 * The JSON API under `/api/`: what SOAP cannot carry (import listings, details, reject reports,
 * cancel and start, feed validation) and the double opt-in calls (Send Now and its status).
 *
 * Conventions, the same for every route (docs/api.md):
 * - One module per concept in ROUTE_MODULES: an `ApiRouteModule` that registers its routes on the
 *   plugin's scope, with paths below `/api` (`/imports/:idProcess`). A new module is one line there.
 * - Every route declares its JSON schema (params, querystring, body where JSON, every response,
 *   errors included: schemas.ts). Fastify checks requests and writes answers with them, and
 *   `GET /api/openapi.json` is the OpenAPI 3.1 document @fastify/swagger generates from them.
 * - Authentication: the account's WS credentials over HTTP Basic, checked as the web service
 *   checks them (password, service enabled, IP allow-list), in one onRequest hook before the body
 *   is read; a route reads the account with `apiAccount(request)`. Only the OpenAPI document
 *   (config `{ public: true }`) is open.
 * - Errors: `{ "error": "…" }` with 400 (bad parameters), 401/403 (credentials), 404 (no such
 *   thing in the account: another account's is never revealed), 409 (a refused state change),
 *   429 (login attempts waiting), 500 (the server failed; details only in its log).
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { ATTEMPTS_RETRY_AFTER_SECONDS, authenticateCall } from '../operations/invoke.ts';
import { describeReturnCode } from '../protocol/return-codes.ts';
import type { ApiDeps, ApiRouteModule } from './deps.ts';
import { ApiError, setApiAccount } from './deps.ts';
import { basicCredentials } from '../protocol/basic-credentials.ts';
import { registerConfirmationRoutes } from './confirmations.ts';
import { registerFeedRoutes } from './feeds.ts';
import { registerImportRoutes } from './imports.ts';
import { registerWebhookRoutes } from './webhooks.ts';

/** The API's modules, registered under `/api`. A new module is one line here. */
const ROUTE_MODULES: readonly ApiRouteModule[] = [registerConfirmationRoutes, registerImportRoutes, registerFeedRoutes, registerWebhookRoutes];

export const API_PREFIX = '/api';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers without credentials (the OpenAPI document). */
    public?: boolean;
  }
}

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(apiScope, { ...deps, prefix: API_PREFIX });
}

async function apiScope(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mailup-import-server JSON API',
        version: '1',
        description: 'Imports (listing, details, reject reports, cancel and start), feed validation and double opt-in. '
          + 'Authenticate with the account\'s WS user and password over HTTP Basic. Errors are `{ "error": "…" }`.',
      },
      components: { securitySchemes: { wsCredentials: { type: 'http', scheme: 'basic', description: 'The account\'s WS user (aNNNN) and password.' } } },
      security: [{ wsCredentials: [] }],
    },
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status = err instanceof ApiError ? err.status : err.statusCode !== undefined && err.statusCode < 500 ? err.statusCode : 500;
    if (err.validation) status = 400;
    if (status >= 500) request.log.error({ err }, 'JSON API request failed');
    return reply.code(status).type('application/json; charset=utf-8')
      .send({ error: status >= 500 ? 'The server could not complete the request.' : err.message });
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public === true) return;
    const found = await authenticateCall(deps.ctx.operations, basicCredentials(request.headers.authorization), { ip: request.ip });
    if (!('ok' in found)) {
      setApiAccount(request, found);
      return;
    }
    if ('attemptsWaiting' in found) {
      reply.header('retry-after', String(ATTEMPTS_RETRY_AFTER_SECONDS));
      throw new ApiError(429, 'Too many login attempts for this user or from this address are waiting their turn; try again later.');
    }
    const unauthenticated = found.code === -1013 || found.code === -1001 || found.code === -1002;
    if (unauthenticated) reply.header('www-authenticate', 'Basic realm="WSMailUpImport", charset="UTF-8"');
    throw new ApiError(unauthenticated ? 401 : 403, `${describeReturnCode(found.code)} (ReturnCode ${found.code})`);
  });

  app.setNotFoundHandler({}, (request, reply) => reply.code(404).type('application/json; charset=utf-8')
    .send({ error: `There is no ${request.method} ${request.url.split('?')[0]} in the JSON API (see /api/openapi.json).` }));

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async (_request, reply: FastifyReply) =>
    reply.type('application/json; charset=utf-8').send(app.swagger()));

  for (const register of ROUTE_MODULES) register(app, deps);
}
