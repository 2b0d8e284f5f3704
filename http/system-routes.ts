import { sql } from 'kysely';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from './app.ts';

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.object({ engine: z.enum(['pglite', 'postgres']), reachable: z.boolean() }),
  register: z.object({ fingerprint: z.string(), version: z.string().nullable(), effective: z.string() }),
});

export const systemRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (base, { deps }) => {
  const app = base.withTypeProvider<ZodTypeProvider>();
  app.get('/healthz', {
    schema: { summary: 'Liveness and database reachability', tags: ['system'], response: { 200: Health, 503: Health } },
  }, async (_req, reply) => {
    let reachable = true;
    try {
      await sql`SELECT 1`.execute(deps.db.kysely);
    } catch {
      reachable = false;
    }
    const body = {
      status: reachable ? ('ok' as const) : ('degraded' as const),
      database: { engine: deps.db.engine, reachable },
      register: { fingerprint: deps.register.fingerprint, version: deps.register.notice.version ?? null, effective: deps.register.notice.effective },
    };
    return reply.code(reachable ? 200 : 503).send(body);
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => base.swagger());
};
