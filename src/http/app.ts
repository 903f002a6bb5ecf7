/**
 * The HTTP server: node:http hands web-service requests to the service endpoint
 * (service-endpoint.ts) and everything else to fastify, with IIS-style case-insensitive routing
 * and one plugin per edge. While it runs, it deletes the partial feeds of uploads that no server
 * is receiving any more (src/import/abandoned-feeds.ts).
 */
import { createServer } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { abandonedFeedSweepMs, AbandonedFeedSweeper } from '../import/abandoned-feeds.ts';
import { apiRoutes } from '../api/api-routes.ts';
import type { AppContext } from './app-context.ts';
import { consoleRoutes } from '../console/console-routes.ts';
import { confirmRoutes } from './confirm-routes.ts';
import { frontendRoutes } from '../frontend/routes.ts';
import { healthRoutes } from './health-routes.ts';
import { lingerAfterEarlyAnswer } from './lingering-close.ts';
import { restRoutes } from '../rest/rest-routes.ts';
import { restUploads } from './rest-uploads.ts';
import { serviceEndpoint } from './service-endpoint.ts';

/** Request ids as fastify makes them (`req-1`, `req-2`, … in base 36), one sequence for both halves of the server. */
function requestIds(): () => string {
  let last = 0;
  return () => {
    last = (last + 1) & 0x7fffffff;
    return `req-${last.toString(36)}`;
  };
}

export interface AppOptions {
  /** Aborted at the shutdown deadline: web-service requests still reading a body are answered 503 (shutdown.ts). */
  readonly shutdown?: AbortSignal;
}

export async function buildApp(ctx: AppContext, loggerInstance?: FastifyBaseLogger, options: AppOptions = {}): Promise<FastifyInstance> {
  const nextRequestId = requestIds();
  const log = (loggerInstance as Logger | undefined) ?? pino({ level: 'silent' });
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    routerOptions: { caseSensitive: false },
    genReqId: nextRequestId,
    serverFactory: (fastifyHandler) => {
      const service = serviceEndpoint(ctx, {
        log,
        nextRequestId,
        // server.close() (fastify's close) stops listening first: from then on, new requests get 503.
        closing: () => !server.listening,
        ...(options.shutdown ? { shutdown: options.shutdown } : {}),
      });
      // Large feeds take time to upload: no timer bounds a whole request (the body cap does, and a
      // body must keep up a minimum rate, see upload-rate.ts), but a socket that sends nothing for
      // two minutes is closed, and headers must arrive within HEADERS_TIMEOUT_SECONDS. Node checks
      // the headers timeout on an interval, 30 s by default; 5 s keeps the bound close.
      const server = createServer({
        headersTimeout: ctx.config.headersTimeoutMs,
        requestTimeout: 0,
        connectionsCheckingInterval: Math.min(5000, ctx.config.headersTimeoutMs),
      }, (request, response) => {
        if (service.serves(request)) service.handle(request, response);
        else fastifyHandler(request, response);
      });
      // A client that sends its next request just as the server closes the idle connection gets
      // ECONNRESET (HTTP/1.1 has no way to tell which side goes first). Node's 5 s default meets
      // shops that poll every few seconds, and reverse proxies that keep upstream connections
      // for 60 s (nginx, load balancers) turn the race into 502s: the server must wait longer.
      server.keepAliveTimeout = ctx.config.keepAliveTimeoutMs;
      server.setTimeout(120_000);
      return server;
    },
    trustProxy: false,
  });
  // Partial feeds of uploads cut short by a server's death: once at start-up, then every half lease.
  const sweeper = new AbandonedFeedSweeper(ctx.store.feeds, abandonedFeedSweepMs(ctx.config), log);
  app.addHook('onReady', async () => sweeper.start());
  app.addHook('onClose', async () => sweeper.stop());
  await app.register(healthRoutes, { ctx });
  await app.register(confirmRoutes, { ctx });
  // The JSON API (/api/…) with its OpenAPI document; one authentication and error shape for all its routes.
  await app.register(apiRoutes, { ctx });
  // The web console; form bodies are parsed only inside its own scope.
  await app.register(consoleRoutes, { ctx, prefix: '/console', secureCookies: ctx.config.consoleSecureCookies });
  // MailUp's HTTP subscribe API (/frontend/…); its form bodies are read only inside its own scope.
  await app.register(frontendRoutes, { ctx });
  // MailUp's REST API v1.1 and its OAuth2 token endpoint; JSON bodies are parsed only in its scope.
  await app.register(restRoutes, { ctx, lingerAfterEarlyAnswer, uploads: restUploads(ctx, options.shutdown) });
  return app;
}
