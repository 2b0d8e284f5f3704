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
  'subject.merge-confirm',
  'subject.unmerge',
  'identity.review-open',
  'identity.review-decide',
  'subject.erase',
  'subject.key-shred',
  'subject.search',
  'disclosure',
  'consent.record',
  'auth.sign-in',
  'auth.sign-in-failed',
  'auth.sign-out',
  'auth.locked',
  'auth.password-change',
  'auth.password-change-failed',
  'staff.create',
  'staff.role-change',
  'staff.disable',
  'staff.unlock',
  'keys.rotate',
  'register.activate',
  'visitor.draft',
  'visitor.purge',
  'access-log.purge',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const known: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

export function isAuditAction(value: string): value is AuditAction {
  return known.has(value);
}
