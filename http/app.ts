// Assembles the HTTP service from its parts. Everything it needs is passed in; nothing is read from globals.
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { appendAuditEvent } from '../audit/append-audit-event.ts';
import { checkpointKeysOf } from '../audit/checkpoint.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { staffPlugin } from '../staff/staff-plugin.ts';
import { collectRoutes } from '../subjects/collect-routes.ts';
import { consolePeopleRoutes } from '../web/console-people-routes.ts';
import { formsRoutes } from '../web/forms-routes.ts';
import { privacyRoutes } from '../web/privacy-routes.ts';
import { installAccessLog } from './access-log.ts';
import { installErrorHandling } from './error-handler.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { systemRoutes } from './system-routes.ts';

export interface AppDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  /** Master keys: wrap per-subject data keys and sign audit checkpoints. */
  readonly keyring: Keyring;
  /** pino log level, or false for none (tests). */
  readonly logLevel?: string | false;
  /** Behind an https proxy: HSTS and Secure cookies. */
  readonly https?: boolean;
  readonly version?: string;
  /** Where pino writes (tests capture it); defaults to stdout. */
  readonly logStream?: NodeJS.WritableStream;
}

function sendRaw(res: ServerResponse, err: CustodianError): void {
  res.statusCode = err.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(JSON.stringify(err.toJSON()));
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel === false || deps.logLevel === undefined ? false : { level: deps.logLevel, ...(deps.logStream ? { stream: deps.logStream } : {}) },
    // Our own one-line request log (below) records the route pattern, never the URL with its query string.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    trustProxy: deps.https ?? false,
    routerOptions: {
      ignoreTrailingSlash: true,
      // Errors the router answers before any route runs still get the one coded JSON shape.
      onMaxParamLength: (_path, _req, res) => sendRaw(res, new CustodianError('route_not_found', 'a part of this path is too long')),
    },
    frameworkErrors: (_error, _req, reply) => {
      sendRaw(reply.raw, new CustodianError('bad_request', 'the URL is not valid'));
    },
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
  installAccessLog(app, deps);

  const { db, register, clock, keyring } = deps;
  // Read at each use (a getter), so audit heads are signed with the active key after a rotation without restart.
  const live = {
    db,
    register,
    clock,
    keyring,
    get checkpointKeys() {
      return checkpointKeysOf(keyring);
    },
  };
  // Staff access first: its route hook must see every route registered after it.
  await app.register(staffPlugin, {
    deps: {
      db,
      clock,
      https: deps.https ?? false,
      controllerName: register.controller.name,
      audit: async (trx, input) => {
        await appendAuditEvent(trx, input, { clock, fingerprint: register.fingerprint, checkpointKey: checkpointKeysOf(keyring) });
      },
    },
  });
  await app.register(systemRoutes, { deps });
  await app.register(privacyRoutes, { deps });
  await app.register(collectRoutes, { deps: live });
  await app.register(formsRoutes, { deps: live, https: deps.https ?? false });
  await app.register(consolePeopleRoutes, { deps: live });
  return app;
}
