// Assembles the HTTP service from its parts. Everything it needs is passed in; nothing is read from globals.
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { privacyRoutes } from '../web/privacy-routes.ts';
import { installErrorHandling } from './error-handler.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { systemRoutes } from './system-routes.ts';

export interface AppDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  /** pino log level, or false for none (tests). */
  readonly logLevel?: string | false;
  /** Behind an https proxy: HSTS and Secure cookies. */
  readonly https?: boolean;
  readonly version?: string;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel === false || deps.logLevel === undefined ? false : { level: deps.logLevel },
    // Our own one-line request log (below) records the route pattern, never the URL with its query string.
    disableRequestLogging: true,
    bodyLimit: 256 * 1024,
    trustProxy: deps.https ?? false,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  await installSecurityHeaders(app, { https: deps.https ?? false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Custodian',
        version: deps.version ?? '0.1.0',
        description: `Personal-data platform run from the privacy register of ${deps.register.controller.name}.`,
      },
    },
    transform: jsonSchemaTransform,
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? '(unmatched)', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  await app.register(systemRoutes, { deps });
  await app.register(privacyRoutes, { deps });
  return app;
}
