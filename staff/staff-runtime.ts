// What the staff plugin hangs on the Fastify instance and requests, and the small helpers every staff route shares:
// loading the session, the session cookie's attributes, whether the caller wants a page or JSON.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import type { Role } from './roles.ts';
import { resumeSession, SESSION_COOKIE, type ActiveSession, type StaffPrincipal } from './sessions.ts';

export interface StaffRuntime {
  readonly db: Db;
  readonly clock: Clock;
  readonly https: boolean;
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

function runtimeOf(req: FastifyRequest): StaffRuntime {
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

export function sessionCookieOptions(https: boolean): CookieSerializeOptions {
  // No Max-Age: the browser forgets it on close; the server enforces idle and absolute expiry regardless.
  return { httpOnly: true, sameSite: 'lax', path: '/', secure: https };
}

export function wantsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}
