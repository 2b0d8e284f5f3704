// What an audit event can say happened. Extend by adding to the list: the type and the runtime check follow.
export const AUDIT_ACTIONS = [
  'record.create',
  'record.update',
  'record.delete',
  'record.read-sealed',
  'record.export',
  'record.restrict',
  'subject.create',
  'subject.merge',
  'subject.erase',
  'subject.key-shred',
  'disclosure',
  'consent.record',
  'auth.sign-in',
  'auth.sign-in-failed',
  'auth.sign-out',
  'auth.locked',
  'auth.password-change',
  'staff.create',
  'staff.role-change',
  'staff.disable',
  'keys.rotate',
  'register.activate',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const known: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

export function isAuditAction(value: string): value is AuditAction {
  return known.has(value);
}
