// One access-log line per response (access-log/), from the route pattern, never the URL with its query string.
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app/app-context.ts';
import { AccessLogWriter } from '../access-log/access-log.ts';

export function installAccessLog(app: FastifyInstance, ctx: Pick<AppContext, 'db' | 'register' | 'clock'>): void {
  const writer = new AccessLogWriter(ctx);
  app.addHook('onResponse', async (req, reply) => {
    writer.push(ctx.clock.now(), {
      method: req.method,
      route: req.routeOptions.url ?? '(unmatched)',
      status: reply.statusCode,
      ms: reply.elapsedTime,
      ip: req.ip,
      userAgent: req.headers['user-agent'],
    });
  });
  app.addHook('onClose', async () => writer.close());
}
