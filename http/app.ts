// The composition root of the HTTP service: one app context in, every part assembled in order. Nothing is read from
// globals; cross-cutting hooks (errors, security headers, request and access logs) are installed here.
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ServerResponse } from 'node:http';
import type { AppContext } from '../app/app-context.ts';
import { consolePlugin } from '../console/console-plugin.ts';
import { ConsentLedger } from '../consent/consent-ledger.ts';
import { consentRoutes } from '../consent/consent-routes.ts';
import { emailConsentRoutes } from '../consent/email-consent-routes.ts';
import { newsletterRoutes } from '../consent/newsletter-routes.ts';
import { CustodianError } from '../core/errors.ts';
import { disclosuresRoutes } from '../disclosures/disclosures-routes.ts';
import { exportRoutes } from '../requests/export-routes.ts';
import { requestsRoutes } from '../requests/requests-routes.ts';
import { staffPlugin } from '../staff/staff-plugin.ts';
import { collectRoutes } from '../subjects/collect/collect-routes.ts';
import { Collector } from '../subjects/collect/collector.ts';
import { subjectPeople } from '../subjects/people.ts';
import { consentBannerRoutes } from '../web/consent-routes.ts';
import { formsRoutes } from '../web/forms-routes.ts';
import { privacyCenterRoutes } from '../web/privacy-center-routes.ts';
import { privacyRoutes } from '../web/privacy-routes.ts';
import { installAccessLog } from './access-log-hook.ts';
import { installErrorHandling } from './error-handler.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { systemRoutes } from './system-routes.ts';

export interface AppOptions {
  /** pino log level, or false for none (tests). */
  readonly logLevel?: string | false;
  /** Served over https: HSTS and Secure cookies. */
  readonly https?: boolean;
  /**
   * Proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed; the client is the nearest address not in
   * the list. None by default: a client's own X-Forwarded-For must never choose its address (the throttles, the trail).
   */
  readonly trustProxy?: readonly string[];
  readonly version?: string;
  /** Where pino writes (tests capture it); defaults to stdout. */
  readonly logStream?: NodeJS.WritableStream;
  /** A request (headers and body) must arrive whole within this; a slow one is answered 408 and closed. */
  readonly requestTimeoutMs?: number;
  /** The address people reach this server at, for links in mail (confirmation links); default http://localhost:8080. */
  readonly publicUrl?: string;
}

/** Headers must arrive within 10 s and a whole request within 30 s: a slow sender cannot hold connections open. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

function sendRaw(res: ServerResponse, err: CustodianError): void {
  res.statusCode = err.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(JSON.stringify(err.toJSON()));
}

export async function buildApp(ctx: AppContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const https = options.https ?? false;
  const app = Fastify({
    logger:
      options.logLevel === false || options.logLevel === undefined
        ? false
        : { level: options.logLevel, ...(options.logStream ? { stream: options.logStream } : {}) },
    // Our own one-line request log (below) records the route pattern, never the URL with its query string.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default): check every second instead.
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: 1_000,
    },
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? [...options.trustProxy] : false,
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
  await installSecurityHeaders(app, { https });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Custodian',
        version: options.version ?? '0.1.0',
        description: `Personal-data platform run from the privacy register of ${ctx.register.controller.name}.`,
      },
    },
    transform: jsonSchemaTransform,
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? '(unmatched)', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  installAccessLog(app, ctx);

  const publicUrl = options.publicUrl ?? 'http://localhost:8080';
  // One collector for every way data comes in (the API, the hosted forms, staff): answered before the app closes.
  const collector = new Collector(ctx, { publicUrl });
  app.addHook('onClose', () => collector.close());
  // Consent choices (the banner, the API) are group-committed by one ledger writer.
  const ledger = new ConsentLedger(ctx, subjectPeople);
  app.addHook('onClose', () => ledger.close());

  // Staff access first: its route hook must see every route registered after it.
  await app.register(staffPlugin, { db: ctx.db, clock: ctx.clock, https });
  await app.register(systemRoutes, { ctx });
  await app.register(privacyRoutes, { ctx });
  await app.register(consentBannerRoutes, { ctx });
  await app.register(privacyCenterRoutes, { ctx, publicUrl });
  await app.register(collectRoutes, { ctx, collector });
  await app.register(requestsRoutes, { ctx, publicUrl });
  await app.register(exportRoutes, { ctx });
  await app.register(consentRoutes, { ctx, ledger, people: subjectPeople, publicUrl });
  await app.register(newsletterRoutes, { ctx, publicUrl });
  await app.register(emailConsentRoutes, { ctx, people: subjectPeople });
  await app.register(disclosuresRoutes, { ctx });
  await app.register(formsRoutes, { ctx, collector, https });
  await app.register(consolePlugin, { ctx, https, publicUrl });
  return app;
}
