// The console pages staff/ owns: sign-in and sign-out (sign-in-routes.ts), the dashboard and the change-password
// page. An encapsulated scope: its form parser and HTML error pages do not leak into the rest of the app.
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CustodianError } from '../core/errors.ts';
import { toCustodianError } from '../http/error-handler.ts';
import { renderConsolePage, renderConsoleTemplate } from '../web/console-layout.ts';
import { MIN_PASSWORD_LENGTH, PASSWORD_PROBLEM_TEXT } from './password-policy.ts';
import { requireStaff, staffGuard } from './require-staff.ts';
import { can, ROLES } from './roles.ts';
import { SESSION_COOKIE } from './sessions.ts';
import { originOf, signInRoutes } from './sign-in-routes.ts';
import { consolePageContext, runtimeOf, sendStaffError, sessionCookieOptions, wantsHtml } from './staff-runtime.ts';

const PasswordBody = z.object({
  current: z.string().max(1024).default(''),
  next: z.string().max(1024).default(''),
  confirm: z.string().max(1024).default(''),
});

interface FormError {
  readonly field?: string;
  readonly text: string;
}

/**
 * Lets a scope accept HTML form posts (application/x-www-form-urlencoded), unless it already does (for instance
 * because the app registers @fastify/formbody once for everyone). Console route plugins call this first.
 */
export async function registerConsoleForms(app: FastifyInstance): Promise<void> {
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody, { bodyLimit: 64 * 1024 });
}

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await registerConsoleForms(app);
  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const err = toCustodianError(error);
    if (err.status >= 500) req.log.error({ code: err.code, route: req.routeOptions.url, cause: error.code ?? error.name, stack: error.stack }, 'request failed');
    return sendStaffError(req, reply, err);
  });

  await app.register(signInRoutes);

  app.get('/console', { schema: { hide: true }, preValidation: requireStaff() }, async (req, reply) => {
    const role = req.staffSession?.principal.role ?? 'auditor';
    const links = [
      ...(can(role, 'records.read') ? [{ href: '/console/people', label: 'Find a person', description: 'Look up a patient, clinician or contact and what we hold about them.' }] : []),
      ...(can(role, 'audit.read') ? [{ href: '/console/audit', label: 'Audit log', description: 'Who read or changed personal data, and when.' }] : []),
      { href: '/console/password', label: 'Change your password', description: 'Choose a new password for your account.' },
    ];
    const passwordChanged = (req.query as { password?: unknown } | undefined)?.password === 'changed';
    const body = renderConsoleTemplate('dashboard', { links, passwordChanged });
    return reply.type('text/html; charset=utf-8').send(renderConsolePage('Console', body, consolePageContext(req)));
  });

  const passwordGuard = staffGuard({ roles: ROLES, auditorMayWrite: true, duringPasswordChange: true });

  app.get('/console/password', { schema: { hide: true }, preValidation: passwordGuard }, async (req, reply) => {
    return renderPasswordPage(req, reply, 200, []);
  });

  app.post('/console/password', { schema: { hide: true }, preValidation: passwordGuard }, async (req, reply) => {
    const parsed = PasswordBody.safeParse(req.body ?? {});
    if (!parsed.success) return sendStaffError(req, reply, new CustodianError('invalid_body', 'the form was not complete'));
    const { current, next, confirm } = parsed.data;
    const errors: FormError[] = [];
    if (!current) errors.push({ field: 'current', text: 'Enter your current password' });
    if (!next) errors.push({ field: 'next', text: 'Enter a new password' });
    else if (next !== confirm) errors.push({ field: 'confirm', text: 'The two new passwords are not the same' });
    if (errors.length > 0) return renderPasswordPage(req, reply, 400, errors);

    const runtime = runtimeOf(req);
    const userId = req.staffSession?.principal.userId ?? '';
    const result = await runtime.users.changePassword({ userId, current, next, origin: originOf(req) });
    if (!result.ok) {
      const error = result.problem === 'current_wrong'
        ? { field: 'current', text: 'Your current password is not right' }
        : { field: 'next', text: PASSWORD_PROBLEM_TEXT[result.problem] };
      return renderPasswordPage(req, reply, 400, [error]);
    }
    req.log.info({ userId }, 'staff password changed');
    reply.setCookie(SESSION_COOKIE, result.session.token, sessionCookieOptions(runtime));
    return reply.redirect('/console?password=changed', 303);
  });
}

function renderPasswordPage(req: FastifyRequest, reply: FastifyReply, status: number, errors: readonly FormError[]): FastifyReply {
  reply.code(status);
  if (errors.length > 0 && !wantsHtml(req)) {
    return reply.send(new CustodianError('password_rejected', errors.map((e) => e.text).join('; '), { fields: errors.map((e) => e.field) }).toJSON());
  }
  const ctx = consolePageContext(req);
  const body = renderConsoleTemplate('password', {
    csrfToken: ctx.csrfToken ?? '',
    mustChange: req.staffSession?.mustChangePassword ?? false,
    minLength: MIN_PASSWORD_LENGTH,
    errors,
    invalid: errors.map((e) => e.field),
  });
  return reply.type('text/html; charset=utf-8').send(renderConsolePage('Change your password', body, ctx));
}
