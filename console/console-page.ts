// The staff console's page frame: header "Custodian — <controller>", navigation by permission, the signed-in user
// with a sign-out button, and the page body. Templates are Eta files in console/templates/; `<%= %>` escapes.
// No scripts anywhere (the CSP forbids them); the small stylesheet is inline.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CustodianError } from '../core/errors.ts';
import { can, type Permission, type Role } from '../staff/roles.ts';
import { wantsHtml } from '../staff/staff-runtime.ts';

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

export interface ConsolePageContext {
  /** The controller from the register, for the header. */
  readonly controllerName: string;
  /** Who is signed in, or null on the sign-in page and public errors. */
  readonly staff: { readonly email: string; readonly role: Role } | null;
  /** The session's CSRF token for the sign-out form (and any form on the page). */
  readonly csrfToken: string | null;
  /** Path of the current page, to mark it in the navigation. */
  readonly currentPath?: string;
  /** Reload the page after this many seconds (a long task's progress; no script needed). */
  readonly refreshSeconds?: number;
}

interface NavItem {
  readonly href: string;
  readonly label: string;
  readonly needs?: Permission;
}

const NAV: readonly NavItem[] = [
  { href: '/console', label: 'Dashboard' },
  { href: '/console/people', label: 'Find a person', needs: 'records.read' },
  { href: '/console/same-person', label: 'Possibly the same person', needs: 'records.read' },
  { href: '/console/requests', label: 'Rights requests', needs: 'requests.record' },
  { href: '/console/consent', label: 'Consent', needs: 'records.read' },
  { href: '/console/outbox', label: 'Outbox', needs: 'records.read-sealed' },
  { href: '/console/audit', label: 'Audit log', needs: 'audit.read' },
  { href: '/console/password', label: 'Change password' },
];

/** A whole console page around `bodyHtml`, which the caller has already escaped (render it with Eta). */
export function renderConsolePage(title: string, bodyHtml: string, ctx: ConsolePageContext): string {
  const staff = ctx.staff;
  const nav = staff
    ? NAV.filter((item) => !item.needs || can(staff.role, item.needs)).map((item) => ({ ...item, current: item.href === ctx.currentPath }))
    : [];
  return eta.render('./layout', {
    title,
    body: bodyHtml,
    controllerName: ctx.controllerName,
    staff,
    csrfToken: ctx.csrfToken ?? '',
    nav,
    refreshSeconds: ctx.refreshSeconds ?? 0,
  });
}

/** Renders one body template from console/templates/ (name without extension) with auto-escaping. */
export function renderConsoleTemplate(name: string, data: Record<string, unknown>): string {
  return eta.render(`./${name}`, data);
}

/** The context `renderConsolePage` needs, for the signed-in user of this request. */
export function consolePageContext(req: FastifyRequest, controllerName: string): ConsolePageContext {
  const session = req.staffSession;
  return {
    controllerName,
    staff: session ? { email: session.principal.email, role: session.principal.role } : null,
    csrfToken: session?.csrfToken ?? null,
    currentPath: req.url.split('?')[0] ?? req.url,
  };
}

/** Sends a body template inside the console frame. */
export function sendPage(
  req: FastifyRequest,
  reply: FastifyReply,
  controllerName: string,
  title: string,
  template: string,
  data: Record<string, unknown>,
  refreshSeconds?: number,
): FastifyReply {
  const ctx = { ...consolePageContext(req, controllerName), ...(refreshSeconds ? { refreshSeconds } : {}) };
  return reply.type('text/html; charset=utf-8').send(renderConsolePage(title, renderConsoleTemplate(template, data), ctx));
}

const ERROR_HEADINGS: Record<number, string> = {
  400: 'That request was not valid',
  401: 'Sign-in required',
  403: 'Not allowed',
  404: 'Page not found',
  429: 'Too many attempts',
};

/** Answers an error as a console page for browsers and as `{ error: { code, message } }` for everything else. */
export function sendConsoleError(req: FastifyRequest, reply: FastifyReply, controllerName: string, err: CustodianError): FastifyReply {
  reply.code(err.status).header('cache-control', 'no-store');
  if (!wantsHtml(req)) return reply.send(err.toJSON());
  const signedIn = req.staffSession !== null;
  const heading = ERROR_HEADINGS[err.status] ?? 'Something went wrong';
  const body = renderConsoleTemplate('error', {
    heading,
    message: err.message,
    back: signedIn ? { href: '/console', label: 'Back to the console' } : { href: '/console/sign-in', label: 'Go to sign-in' },
  });
  return reply.type('text/html; charset=utf-8').send(renderConsolePage(ERROR_HEADINGS[err.status] ?? 'Error', body, consolePageContext(req, controllerName)));
}
