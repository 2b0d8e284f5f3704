// The staff console: one encapsulated Fastify scope with its own form parser and one error handler that answers
// browsers with a console page and everything else with the coded JSON error. Every route in it is guarded by
// staff/'s route guard (the staff plugin adds one to any that forgets).
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app/app-context.ts';
import { forAnonymous, logServerFault, toCustodianError } from '../core/framework-errors.ts';
import { staffUsers } from '../staff/users-service.ts';
import { accountRoutes } from './account-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { sendConsoleError } from './console-page.ts';
import { consentRoutes } from './consent-routes.ts';
import { disclosuresRoutes } from './disclosures-routes.ts';
import { outboxRoutes } from './outbox-routes.ts';
import { peopleRoutes } from './people-routes.ts';
import { requestsRoutes } from './requests-routes.ts';
import { samePersonRoutes } from './same-person-routes.ts';
import { signInRoutes } from './sign-in-routes.ts';

export interface ConsoleOptions {
  readonly ctx: AppContext;
  /** Behind an https proxy: cookies get `Secure` and the sign-in cookie its `__Host-` prefix. */
  readonly https: boolean;
  /** The address people reach this server at, for links in mail (an access answer's link). */
  readonly publicUrl?: string;
}

/** What every console route file is given. */
export interface ConsoleScope extends ConsoleOptions {
  readonly controllerName: string;
  readonly users: ReturnType<typeof staffUsers>;
}

export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  const scope: ConsoleScope = { ...options, controllerName: options.ctx.register.controller.name, users: staffUsers(options.ctx) };
  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const err = toCustodianError(error);
    logServerFault(req, error, err);
    return sendConsoleError(req, reply, scope.controllerName, req.staff ? err : forAnonymous(err));
  });
  signInRoutes(app, scope);
  accountRoutes(app, scope);
  peopleRoutes(app, scope);
  samePersonRoutes(app, scope);
  disclosuresRoutes(app, scope);
  requestsRoutes(app, scope);
  auditRoutes(app, scope);
  outboxRoutes(app, scope);
  consentRoutes(app, scope);
}
