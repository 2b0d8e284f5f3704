// The staff access plugin. Register it on the app before any route plugin, so it sees every route:
//   await app.register(staffPlugin, { db, clock, https })
// It is not encapsulated (like fastify-plugin): the `req.staff` decoration, cookie parsing and the route guard
// apply app-wide, and every route under /console or /api/v1/staff is guarded (`requireStaff()` unless the route
// names its own guard or is marked `config: { staffPublic: true }`). The console pages live in console/.
import cookie from '@fastify/cookie';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { describeStaffAccess, isStaffUrl, requireStaff } from './require-staff.ts';
import type { StaffRouteInfo, StaffRuntime } from './staff-runtime.ts';

export interface StaffPluginOptions {
  readonly db: Db;
  readonly clock: Clock;
  /** Behind an https proxy: the session cookies get `Secure`. */
  readonly https: boolean;
}

async function staffAccess(app: FastifyInstance, options: StaffPluginOptions): Promise<void> {
  if (!app.hasRequestDecorator('cookies')) await app.register(cookie);
  const runtime: StaffRuntime = { db: options.db, clock: options.clock, https: options.https, routes: [] };
  app.decorate('staffRuntime', runtime);
  app.decorateRequest('staff', null);
  app.decorateRequest('staffSession', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    if (!isStaffUrl(route.url)) return;
    let access = describeStaffAccess(route);
    if (!access) {
      // Deny by default: a staff route that forgot its guard still needs a signed-in user (and CSRF on writes).
      const guard = requireStaff();
      route.preValidation = [guard, ...(Array.isArray(route.preValidation) ? route.preValidation : route.preValidation ? [route.preValidation] : [])];
      access = describeStaffAccess(route);
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (access) runtime.routes.push(Object.freeze({ method: String(method), url: route.url, access }));
    }
  });
}

export const staffPlugin = Object.assign(staffAccess, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'custodian-staff',
});

/** Every route under /console and /api/v1/staff registered so far, with who may use it. */
export function listStaffRoutes(app: FastifyInstance): readonly StaffRouteInfo[] {
  return [...app.staffRuntime.routes];
}
