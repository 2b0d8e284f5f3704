// The console's own pages for the signed-in user: the dashboard and the change-password page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CustodianError } from '../core/errors.ts';
import { MIN_PASSWORD_LENGTH, PASSWORD_PROBLEM_TEXT } from '../staff/password-policy.ts';
import { requireStaff, staffGuard } from '../staff/require-staff.ts';
import { can, ROLES } from '../staff/roles.ts';
import { SESSION_COOKIE } from '../staff/sessions.ts';
import { sessionCookieOptions, wantsHtml } from '../staff/staff-runtime.ts';
import { consolePageContext, sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';
import { originOf } from './sign-in-routes.ts';

const PasswordBody = z.object({
  current: z.string().max(1024).default(''),
  next: z.string().max(1024).default(''),
  confirm: z.string().max(1024).default(''),
});

interface FormError {
  readonly field?: string;
  readonly text: string;
}

export function accountRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { controllerName, users, https } = scope;

  app.get('/console', { schema: { hide: true }, preValidation: requireStaff() }, async (req, reply) => {
    const role = req.staffSession?.principal.role ?? 'auditor';
    const links = [
      ...(can(role, 'records.read')
        ? [
            { href: '/console/people', label: 'Find a person', description: 'Look up a patient, clinician or contact and what we hold about them.' },
            {
              href: '/console/same-person',
              label: 'Possibly the same person',
              description: 'New records that share a phone, an email or a patient number with someone we know: decide whether they are one person.',
            },
          ]
        : []),
      ...(can(role, 'requests.record')
        ? [{ href: '/console/requests', label: 'Rights requests', description: 'Requests for a copy, a correction, an erasure…: the queue by due date.' }]
        : []),
      ...(can(role, 'audit.read') ? [{ href: '/console/audit', label: 'Audit log', description: 'Who read or changed personal data, and when.' }] : []),
      { href: '/console/password', label: 'Change your password', description: 'Choose a new password for your account.' },
    ];
    const passwordChanged = (req.query as { password?: unknown } | undefined)?.password === 'changed';
    return sendPage(req, reply, controllerName, 'Console', 'dashboard', { links, passwordChanged });
  });

  const passwordGuard = staffGuard({ roles: ROLES, auditorMayWrite: true, duringPasswordChange: true });

  app.get('/console/password', { schema: { hide: true }, preValidation: passwordGuard }, async (req, reply) => renderPasswordPage(req, reply, 200, []));

  app.post('/console/password', { schema: { hide: true }, preValidation: passwordGuard }, async (req, reply) => {
    const parsed = PasswordBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new CustodianError('invalid_body', 'the form was not complete');
    const { current, next, confirm } = parsed.data;
    const errors: FormError[] = [];
    if (!current) errors.push({ field: 'current', text: 'Enter your current password' });
    if (!next) errors.push({ field: 'next', text: 'Enter a new password' });
    else if (next !== confirm) errors.push({ field: 'confirm', text: 'The two new passwords are not the same' });
    if (errors.length > 0) return renderPasswordPage(req, reply, 400, errors);

    const userId = req.staffSession?.principal.userId ?? '';
    const result = await users.changePassword({ userId, current, next, origin: originOf(req) });
    if (!result.ok) {
      const error =
        result.problem === 'current_wrong'
          ? { field: 'current', text: 'Your current password is not right' }
          : { field: 'next', text: PASSWORD_PROBLEM_TEXT[result.problem] };
      return renderPasswordPage(req, reply, 400, [error]);
    }
    req.log.info({ userId }, 'staff password changed');
    reply.setCookie(SESSION_COOKIE, result.session.token, sessionCookieOptions(https));
    return reply.redirect('/console?password=changed', 303);
  });

  function renderPasswordPage(req: FastifyRequest, reply: FastifyReply, status: number, errors: readonly FormError[]): FastifyReply {
    reply.code(status);
    if (errors.length > 0 && !wantsHtml(req)) {
      return reply.send(new CustodianError('password_rejected', errors.map((e) => e.text).join('; '), { fields: errors.map((e) => e.field) }).toJSON());
    }
    return sendPage(req, reply, controllerName, 'Change your password', 'password', {
      csrfToken: consolePageContext(req, controllerName).csrfToken ?? '',
      mustChange: req.staffSession?.mustChangePassword ?? false,
      minLength: MIN_PASSWORD_LENGTH,
      errors,
      invalid: errors.map((e) => e.field),
    });
  }
}
