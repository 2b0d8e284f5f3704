// GET /healthz (liveness, database reachability, the register in force), the audit trail's public checkpoint keys,
// and the OpenAPI document.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  database: z.object({ engine: z.enum(['pglite', 'postgres']), reachable: z.boolean() }),
  register: z.object({ fingerprint: z.string(), version: z.string().nullable(), effective: z.string() }),
});

const AuditKeys = z.object({
  keys: z.array(z.object({ id: z.string(), alg: z.literal('Ed25519'), publicKey: z.string(), active: z.boolean() })),
});

export const systemRoutes: FastifyPluginAsync<{ ctx: Pick<AppContext, 'db' | 'register' | 'auditor'> }> = async (base, { ctx }) => {
  const app = base.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/healthz',
    {
      schema: { summary: 'Liveness and database reachability', tags: ['system'], response: { 200: Health, 503: Health } },
    },
    async (_req, reply) => {
      const reachable = await ctx.db.ping();
      const body = {
        status: reachable ? ('ok' as const) : ('degraded' as const),
        database: { engine: ctx.db.engine, reachable },
        register: { fingerprint: ctx.register.fingerprint, version: ctx.register.notice.version ?? null, effective: ctx.register.notice.effective },
      };
      return reply.code(reachable ? 200 : 503).send(body);
    },
  );

  app.get(
    '/.well-known/custodian-audit-key',
    {
      schema: {
        summary: 'The public keys the audit trail checkpoints are signed with (Ed25519, raw 32 bytes in base64url), the active one first',
        tags: ['system'],
        response: { 200: AuditKeys },
      },
    },
    async () => ({ keys: ctx.auditor.publishedKeys() }),
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => base.swagger());
};
