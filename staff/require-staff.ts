// The guard for staff routes. `requireStaff(roles?)` returns a Fastify hook that
//  1. finds the session (none: 303 to the sign-in page for browsers, 401 `unauthenticated` for the rest),
//  2. on POST/PUT/PATCH/DELETE checks the session's CSRF token (403 `csrf_invalid`),
//  3. sends a user who still has a one-time password to the change-password page (403 `password_change_required`),
//  4. checks the role (403 `forbidden`); auditors only ever read.
// Refusals are thrown as coded errors: the scope's error handler answers them (console/: a page; the API: JSON).
// Use it as `preValidation` (the body is parsed, so the `_csrf` field is there; nothing is validated before the
// caller is known) or `preHandler`. Routes under /console and /api/v1/staff without a guard get `requireStaff()`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CustodianError } from '../core/errors.ts';
import { csrfFromRequest, tokensEqual } from './csrf.ts';
import { rolesAdmitted, type Role } from './roles.ts';
import { SESSION_COOKIE } from './sessions.ts';
import { loadStaffSession, wantsHtml, type StaffRouteAccess } from './staff-runtime.ts';

const STAFF_PREFIXES = ['/console', '/api/v1/staff'] as const;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ACCESS = Symbol.for('custodian.staff-access');

type StaffAccess = Extract<StaffRouteAccess, { kind: 'staff' }>;
export type StaffGuard = ((req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>) & { readonly [ACCESS]: StaffAccess };

/**
 * Admits signed-in staff whose role is one of `roles` or ranks above one (owner ⊇ dpo ⊇ staff; auditor only
 * passes where named). No roles: any signed-in staff. Auditors are refused every non-GET route regardless.
 */
export function requireStaff(roles?: readonly Role[]): StaffGuard {
  return staffGuard({ roles: rolesAdmitted(roles) });
}

/** For staff/'s own routes: sign-out and the password page must work for auditors and during a forced change. */
export function staffGuard(options: { roles: readonly Role[]; auditorMayWrite?: boolean; duringPasswordChange?: boolean }): StaffGuard {
  const access: StaffAccess = Object.freeze({
    kind: 'staff',
    roles: Object.freeze([...options.roles]),
    auditorMayWrite: options.auditorMayWrite ?? false,
    duringPasswordChange: options.duringPasswordChange ?? false,
  });
  const guard = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    reply.header('cache-control', 'no-store');
    const session = await loadStaffSession(req);
    if (!session) {
      if (req.cookies[SESSION_COOKIE] !== undefined) reply.clearCookie(SESSION_COOKIE, { path: '/' });
      if (req.method === 'GET' && wantsHtml(req)) {
        const next = safeNext(req.url) ?? '/console';
        return reply.redirect(`/console/sign-in?next=${encodeURIComponent(next)}`, 303);
      }
      if (wantsHtml(req)) return reply.redirect('/console/sign-in', 303);
      throw new CustodianError('unauthenticated', 'sign in to the console first');
    }
    const writes = !SAFE_METHODS.has(req.method);
    if (writes && !tokensEqual(session.csrfToken, csrfFromRequest(req))) throw new CustodianError('csrf_invalid');
    if (session.mustChangePassword && !access.duringPasswordChange) {
      if (req.method === 'GET' && wantsHtml(req)) return reply.redirect('/console/password', 303);
      throw new CustodianError('password_change_required');
    }
    const role = session.principal.role;
    if (!access.roles.includes(role) || (role === 'auditor' && writes && !access.auditorMayWrite)) {
      throw new CustodianError('forbidden');
    }
    return undefined;
  };
  return Object.assign(guard, { [ACCESS]: access });
}

function isStaffGuard(value: unknown): value is StaffGuard {
  return typeof value === 'function' && ACCESS in value;
}

interface RouteHooks {
  readonly onRequest?: unknown;
  readonly preValidation?: unknown;
  readonly preHandler?: unknown;
  readonly config?: unknown;
}

/** Who may use a route, read from its options: its guard, or `config.staffPublic`; undefined when unguarded. */
export function describeStaffAccess(route: RouteHooks): StaffRouteAccess | undefined {
  const hooks = [route.onRequest, route.preValidation, route.preHandler].flatMap((h) => (Array.isArray(h) ? h : h ? [h] : []));
  const guard = hooks.find(isStaffGuard);
  if (guard) return guard[ACCESS];
  if ((route.config as { staffPublic?: unknown } | undefined)?.staffPublic === true) return { kind: 'public' };
  return undefined;
}

/** Subtrees staff alone may use, under a path the public may also use: anyone may make a request, only staff read one. */
const STAFF_SUBTREES = ['/api/v1/requests/'];

export function isStaffUrl(url: string): boolean {
  return STAFF_PREFIXES.some((prefix) => url === prefix || url.startsWith(`${prefix}/`)) || STAFF_SUBTREES.some((tree) => url.startsWith(tree));
}

/**
 * A `next` target that stays on this site and inside the console: a relative path starting with a single `/`,
 * no backslashes or control characters, under /console. Anything else (//evil.example, https://…, /\evil) → undefined.
 */
export function safeNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f\u007f]/.test(value)) return undefined;
  const base = 'http://custodian.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return undefined;
  }
  if (url.origin !== base || !isStaffUrl(url.pathname) || !url.pathname.startsWith('/console')) return undefined;
  if (url.pathname.startsWith('/console/sign-')) return '/console';
  return `${url.pathname}${url.search}`;
}
