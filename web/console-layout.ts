// The staff console's page frame: header "Custodian — <controller>", navigation by permission, the signed-in user
// with a sign-out button, and the page body. Templates are Eta files in web/templates/; `<%= %>` escapes.
// No scripts anywhere (the CSP forbids them); the small stylesheet is inline.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { can, type Permission, type Role } from '../staff/roles.ts';

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
}

interface NavItem {
  readonly href: string;
  readonly label: string;
  readonly needs?: Permission;
}

const NAV: readonly NavItem[] = [
  { href: '/console', label: 'Dashboard' },
  { href: '/console/people', label: 'Find a person', needs: 'records.read' },
  { href: '/console/audit', label: 'Audit log', needs: 'audit.read' },
  { href: '/console/password', label: 'Change password' },
];

/** A whole console page around `bodyHtml`, which the caller has already escaped (render it with Eta). */
export function renderConsolePage(title: string, bodyHtml: string, ctx: ConsolePageContext): string {
  const staff = ctx.staff;
  const nav = staff
    ? NAV.filter((item) => !item.needs || can(staff.role, item.needs)).map((item) => ({ ...item, current: item.href === ctx.currentPath }))
    : [];
  return eta.render('./layout', { title, body: bodyHtml, controllerName: ctx.controllerName, staff, csrfToken: ctx.csrfToken ?? '', nav });
}

/** Renders one body template from web/templates/ (name without extension) with auto-escaping. */
export function renderConsoleTemplate(name: string, data: Record<string, unknown>): string {
  return eta.render(`./${name}`, data);
}

/** For the odd string built outside a template. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
