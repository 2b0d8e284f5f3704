// GET /consent.js: the cookie banner a website includes with one script tag, configured from the register's cookie
// table (web/consent-config.ts) and bundled on first request (web/consent-bundle.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../app/app-context.ts';
import { bannerScript, type BannerScript } from './consent-bundle.ts';
import { bannerConfig } from './consent-config.ts';

export const consentBannerRoutes: FastifyPluginAsync<{ ctx: Pick<AppContext, 'register'> }> = async (app, { ctx }) => {
  // The register is frozen: one script per app.
  let script: Promise<BannerScript> | undefined;
  const get = () => {
    script ??= bannerScript(bannerConfig(ctx.register));
    script.catch(() => {
      script = undefined;
    });
    return script;
  };

  app.get(
    '/consent.js',
    {
      schema: { summary: 'The cookie banner: one script tag, no dependencies, configured from the register', tags: ['consent'], produces: ['text/javascript'] },
    },
    async (req, reply) => {
      const { body, gzip, etag } = await get();
      reply
        .header('etag', etag)
        .header('vary', 'accept-encoding')
        .header('cache-control', 'public, max-age=300')
        // Websites on other origins include it: a script is not read across origins, only run.
        .header('cross-origin-resource-policy', 'cross-origin')
        .type('text/javascript; charset=utf-8');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(gzip);
      return reply.send(body);
    },
  );
};
