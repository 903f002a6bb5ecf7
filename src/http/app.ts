/**
 * The HTTP server: fastify with IIS-style case-insensitive routing, one plugin per edge.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';
import { consoleRoutes } from '../console/console-routes.ts';
import { confirmRoutes } from './confirm-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { serviceRoutes } from './service-routes.ts';

export async function buildApp(ctx: AppContext, loggerInstance?: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    routerOptions: { caseSensitive: false },
    // Large feeds take time to upload: no timer bounds a whole request (the body cap does, and a
    // body must keep up a minimum rate, see upload-rate.ts), but a socket that sends nothing for
    // two minutes is closed, and headers must arrive within HEADERS_TIMEOUT_SECONDS. Both
    // timeouts go to Node when it creates the server: fastify zeroes requestTimeout only
    // afterwards, and Node would otherwise derive the headers timeout from its own 300 s default.
    // Node checks the headers timeout on an interval, 30 s by default; 5 s keeps the bound close.
    http: {
      headersTimeout: ctx.config.headersTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.min(5000, ctx.config.headersTimeoutMs),
    },
    requestTimeout: 0,
    connectionTimeout: 120_000,
    keepAliveTimeout: 5000,
    trustProxy: false,
  });
  await app.register(serviceRoutes, { ctx });
  await app.register(healthRoutes, { ctx });
  await app.register(confirmRoutes, { ctx });
  // The web console; form bodies are parsed only inside its own scope (SOAP bodies stay raw streams).
  await app.register(consoleRoutes, { ctx, prefix: '/console', secureCookies: ctx.config.consoleSecureCookies });
  return app;
}
