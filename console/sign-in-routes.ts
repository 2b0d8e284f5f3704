// GET/POST /console/sign-in and POST /console/sign-out.
// The sign-in form has no session yet, so it is protected by a double-submit token (see staff/csrf.ts). Every
// failure gives the same page (or the same JSON) whatever the reason, so the answer never says whether an account
// exists.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CustodianError } from '../core/errors.ts';
import { isWellFormedToken, newPresignToken, presignCookie, tokensEqual } from '../staff/csrf.ts';
import { safeNext, staffGuard } from '../staff/require-staff.ts';
import { ROLES } from '../staff/roles.ts';
import { SESSION_COOKIE, type SessionOrigin } from '../staff/sessions.ts';
import { loadStaffSession, sessionCookieOptions, wantsHtml } from '../staff/staff-runtime.ts';
import { renderConsolePage, renderConsoleTemplate } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';

const SignInBody = z.object({
  email: z.string().max(320).default(''),
  password: z.string().max(1024).default(''),
  _csrf: z.string().max(512).optional(),
  next: z.string().max(2000).optional(),
});

const FAILED =
  'The email address or password is not right, or the account cannot sign in at the moment. Check them and try again; after several failed attempts sign-in pauses for a while.';

interface FormError {
  readonly field?: string;
  readonly text: string;
}

interface SignInView {
  readonly status: number;
  readonly next: string | undefined;
  readonly email: string;
  readonly errors: readonly FormError[];
  /** For clients that did not ask for HTML. */
  readonly error?: CustodianError;
}

export function signInRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { https, users } = scope;
  const publicRoute = { config: { staffPublic: true }, schema: { hide: true } };

  app.get('/console/sign-in', publicRoute, async (req, reply) => {
    const next = safeNext((req.query as { next?: unknown } | undefined)?.next);
    if (await loadStaffSession(req)) return reply.redirect(next ?? '/console', 303);
    return renderSignIn(req, reply, { status: 200, next, email: '', errors: [] });
  });

  app.post('/console/sign-in', publicRoute, async (req, reply) => {
    const parsed = SignInBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new CustodianError('invalid_body', 'the sign-in form was not complete');
    const { email, password, _csrf, next: rawNext } = parsed.data;
    const next = safeNext(rawNext);
    const presign = req.cookies[presignCookie(https).name];
    if (!isWellFormedToken(presign) || !tokensEqual(presign, _csrf)) {
      const text = 'The sign-in form had expired. Enter your details again.';
      return renderSignIn(req, reply, { status: 403, next, email, errors: [{ text }], error: new CustodianError('csrf_invalid') });
    }
    const missing: FormError[] = [
      ...(email.trim() ? [] : [{ field: 'email', text: 'Enter your email address' }]),
      ...(password ? [] : [{ field: 'password', text: 'Enter your password' }]),
    ];
    if (missing.length > 0) {
      return renderSignIn(req, reply, {
        status: 400,
        next,
        email,
        errors: missing,
        error: new CustodianError('invalid_body', 'enter an email address and a password'),
      });
    }

    let result: Awaited<ReturnType<typeof users.signIn>>;
    try {
      result = await users.signIn({ email, password, origin: originOf(req), replacing: req.cookies[SESSION_COOKIE] });
    } catch (e) {
      if (!(e instanceof CustodianError) || e.code !== 'rate_limited') throw e;
      const text = 'Too many failed sign-ins. Wait 15 minutes, then try again.';
      return renderSignIn(req, reply, { status: 429, next, email, errors: [{ text }], error: e });
    }
    if (!result.ok) {
      req.log.info({ outcome: 'failed' }, 'staff sign-in');
      return renderSignIn(req, reply, {
        status: 401,
        next,
        email,
        errors: [{ field: 'email', text: FAILED }],
        error: new CustodianError('unauthenticated', FAILED),
      });
    }
    req.log.info({ outcome: 'signed-in', userId: result.principal.userId }, 'staff sign-in');
    reply.setCookie(SESSION_COOKIE, result.session.token, sessionCookieOptions(https));
    const pre = presignCookie(https);
    reply.clearCookie(pre.name, { path: pre.path, secure: https });
    return reply.header('cache-control', 'no-store').redirect(result.mustChangePassword ? '/console/password' : (next ?? '/console'), 303);
  });

  app.post(
    '/console/sign-out',
    {
      schema: { hide: true },
      preValidation: staffGuard({ roles: ROLES, auditorMayWrite: true, duringPasswordChange: true }),
    },
    async (req, reply) => {
      await users.signOut(req.cookies[SESSION_COOKIE]);
      req.log.info({ userId: req.staff?.userId }, 'staff sign-out');
      reply.clearCookie(SESSION_COOKIE, { ...sessionCookieOptions(https) });
      return reply.redirect('/console/sign-in', 303);
    },
  );

  function renderSignIn(req: FastifyRequest, reply: FastifyReply, view: SignInView): FastifyReply {
    reply.code(view.status).header('cache-control', 'no-store');
    if (view.error && !wantsHtml(req)) return reply.send(view.error.toJSON());
    const pre = presignCookie(https);
    const existing = req.cookies[pre.name];
    const presignToken = isWellFormedToken(existing) ? existing : newPresignToken();
    reply.setCookie(pre.name, presignToken, { httpOnly: true, sameSite: 'strict', path: pre.path, secure: https });
    const body = renderConsoleTemplate('sign-in', { presignToken, next: view.next, email: view.email, errors: view.errors });
    const ctx = { controllerName: scope.controllerName, staff: null, csrfToken: null };
    return reply.type('text/html; charset=utf-8').send(renderConsolePage('Sign in', body, ctx));
  }
}

export function originOf(req: FastifyRequest): SessionOrigin {
  return { ip: req.ip, userAgent: req.headers['user-agent'] };
}
