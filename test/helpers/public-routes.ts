// The routes an app really serves, read from the app itself (Fastify's route tree), and which of them anyone may
// call without signing in. Used by the fuzzer so a route added tomorrow is fuzzed (or flagged) without editing it.
import type { FastifyInstance } from 'fastify';
import { isStaffUrl } from '../../staff/require-staff.ts';
import { listStaffRoutes } from '../../staff/staff-plugin.ts';

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
}

/**
 * Every (method, url) pair in the app, parsed from `printRoutes({ commonPrefix: false })`: one line per tree node,
 * indented four columns per level ("│   " or "    ", then "├── " or "└── "), a node's path being its ancestors'
 * segments joined, followed by its methods in parentheses when a route ends there.
 */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const stack: string[] = [];
  const routes: RouteEntry[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      routes.push({ method, url: stack.join('') });
  }
  return routes;
}

/**
 * The routes a visitor can reach without a staff session: everything outside /console and /api/v1/staff, plus the
 * staff routes the staff plugin itself lists as public (the sign-in form). HEAD is left out: Fastify derives it
 * from GET and answers it with the same handler, without a body.
 */
export function publicRoutes(app: FastifyInstance): RouteEntry[] {
  const staffPublic = new Set(
    listStaffRoutes(app)
      .filter((r) => r.access.kind === 'public')
      .map((r) => `${r.method} ${r.url}`),
  );
  return listRoutes(app).filter((r) => r.method !== 'HEAD' && (!isStaffUrl(r.url) || staffPublic.has(`${r.method} ${r.url}`)));
}
