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
    // Large feeds take time to upload: no timer bounds a whole request (the body cap does), but a
    // socket that sends nothing for two minutes is closed, and headers must arrive within 60 s.
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
