/**
 * The HTTP server: fastify with IIS-style case-insensitive routing, one plugin per edge.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';
import { serviceRoutes } from './service-routes.ts';

export async function buildApp(ctx: AppContext, loggerInstance?: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    routerOptions: { caseSensitive: false },
    // Large feeds take time to upload; the body cap, not a timer, bounds them. Idle sockets still close.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 5000,
    trustProxy: false,
  });
  await app.register(serviceRoutes, { ctx });
  return app;
}
