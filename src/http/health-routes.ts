/**
 * Operations endpoints: /healthz (the process answers), /readyz (and its database does), and
 * /metrics in the Prometheus text format.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './app-context.ts';

export async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));

  app.get('/readyz', async (request, reply) => {
    try {
      await ctx.store.ping();
      return reply.type('text/plain; charset=utf-8').send('ready\n');
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return reply.code(503).type('text/plain; charset=utf-8').send('database unavailable\n');
    }
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(await ctx.metrics.registry.render()));
}
