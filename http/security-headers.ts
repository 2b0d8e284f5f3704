import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * Security headers on every response. Pages are server-rendered with inline CSS; the one script is our own cookie
 * banner (/consent.js), which posts the choice to our own API.
 *
 * Helmet decides the headers; they depend on nothing in the request, so they are worked out once here and set on
 * every response as they are (@fastify/helmet would build Helmet's middleware again for every request).
 */
export async function installSecurityHeaders(app: FastifyInstance, options: { https: boolean }): Promise<void> {
  const headers = helmetHeaders(options);
  app.addHook('onRequest', async (_req, reply) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
  });
}

/** The headers Helmet sets with our settings, in order. */
function helmetHeaders(options: { https: boolean }): [string, string][] {
  const set = new Map<string, string>();
  const res = {
    setHeader: (name: string, value: string) => set.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => set.delete(name.toLowerCase()),
  };
  let done = false;
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    hsts: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  })({} as Parameters<ReturnType<typeof helmet>>[0], res as unknown as Parameters<ReturnType<typeof helmet>>[1], (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return [...set];
}
