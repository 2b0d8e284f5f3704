// What the staff plugin hangs on the Fastify instance and requests, and the small helpers every staff route shares:
// loading the session, answering in HTML or JSON, the session cookie's attributes.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { renderConsolePage, renderConsoleTemplate, type ConsolePageContext } from '../web/console-layout.ts';
import type { Role } from './roles.ts';
import { resumeSession, SESSION_COOKIE, type ActiveSession, type StaffPrincipal } from './sessions.ts';
import type { StaffUsers } from './users-service.ts';

export interface StaffRuntime {
  readonly db: Db;
  readonly clock: Clock;
  readonly https: boolean;
  readonly controllerName: string;
  readonly users: StaffUsers;
  /** Every route under the staff prefixes, with who may use it; filled as routes are registered. */
  readonly routes: StaffRouteInfo[];
}

export type StaffRouteAccess =
  | { readonly kind: 'public' }
  | { readonly kind: 'staff'; readonly roles: readonly Role[]; readonly auditorMayWrite: boolean; readonly duringPasswordChange: boolean };

export interface StaffRouteInfo {
  readonly method: string;
  readonly url: string;
  readonly access: StaffRouteAccess;
}

declare module 'fastify' {
  interface FastifyInstance {
    staffRuntime: StaffRuntime;
  }
  interface FastifyRequest {
    /** The signed-in staff user, set by `requireStaff` (null before it runs or on public routes). */
    staff: StaffPrincipal | null;
    staffSession: ActiveSession | null;
  }
  interface FastifyContextConfig {
    /** Marks a route under /console or /api/v1/staff as reachable without a session (sign-in only). */
    staffPublic?: boolean;
  }
}

export function runtimeOf(req: FastifyRequest): StaffRuntime {
  const runtime = req.server.staffRuntime as StaffRuntime | undefined;
  if (!runtime) throw new CustodianError('internal', 'staffPlugin is not registered on this app');
  return runtime;
}

/** Loads (once per request) the session the cookie names, restarting its idle timer. */
export async function loadStaffSession(req: FastifyRequest): Promise<ActiveSession | null> {
  if (req.staffSession) return req.staffSession;
  const runtime = runtimeOf(req);
  const session = await resumeSession(runtime.db.kysely, req.cookies[SESSION_COOKIE], runtime.clock.now());
  req.staffSession = session ?? null;
  req.staff = session?.principal ?? null;
  return req.staffSession;
}

export function sessionCookieOptions(runtime: StaffRuntime): CookieSerializeOptions {
  // No Max-Age: the browser forgets it on close; the server enforces idle and absolute expiry regardless.
  return { httpOnly: true, sameSite: 'lax', path: '/', secure: runtime.https };
}

export function wantsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

/** The context `renderConsolePage` needs, for the signed-in user of this request. */
export function consolePageContext(req: FastifyRequest): ConsolePageContext {
  const session = req.staffSession;
  return {
    controllerName: runtimeOf(req).controllerName,
    staff: session ? { email: session.principal.email, role: session.principal.role } : null,
    csrfToken: session?.csrfToken ?? null,
    currentPath: req.url.split('?')[0] ?? req.url,
  };
}

/** Answers an error as a console page for browsers and as `{ error: { code, message } }` for everything else. */
export function sendStaffError(req: FastifyRequest, reply: FastifyReply, err: CustodianError): FastifyReply {
  reply.code(err.status).header('cache-control', 'no-store');
  if (!wantsHtml(req)) return reply.send(err.toJSON());
  const signedIn = req.staffSession !== null;
  const body = renderConsoleTemplate('error', {
    heading: ERROR_HEADINGS[err.status] ?? 'Something went wrong',
    message: err.message,
    back: signedIn ? { href: '/console', label: 'Back to the console' } : { href: '/console/sign-in', label: 'Go to sign-in' },
  });
  return reply.type('text/html; charset=utf-8').send(renderConsolePage(ERROR_HEADINGS[err.status] ?? 'Error', body, consolePageContext(req)));
}

const ERROR_HEADINGS: Record<number, string> = {
  400: 'That request was not valid',
  401: 'Sign-in required',
  403: 'Not allowed',
  404: 'Page not found',
  429: 'Too many attempts',
};
