// Who may do what in the console. owner ⊇ dpo ⊇ staff; auditor stands apart and only reads.
export const ROLES = ['owner', 'dpo', 'staff', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

const PERMISSIONS = {
  'records.read': ['owner', 'dpo', 'staff'],
  'records.read-sealed': ['owner', 'dpo'],
  'records.write': ['owner', 'dpo', 'staff'],
  'audit.read': ['owner', 'dpo', 'auditor'],
  /** Record a rights request that came by letter, email or phone; see the queue. */
  'requests.record': ['owner', 'dpo', 'staff'],
  /** Decide on requests: verify, pause, extend, link people, fulfil, close (answers open sealed values). */
  'requests.manage': ['owner', 'dpo'],
  /** Record that records went to a recipient. */
  'disclosures.write': ['owner', 'dpo', 'staff'],
  'users.manage': ['owner'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** The roles that hold a permission, for `requireStaff(rolesWith('audit.read'))`. */
export function rolesWith(permission: Permission): Role[] {
  return [...PERMISSIONS[permission]];
}

const RANK: Record<Exclude<Role, 'auditor'>, number> = { owner: 3, dpo: 2, staff: 1 };

/** Whether a user with `role` passes a guard that names `required`: a higher rank passes a lower one. */
function satisfies(role: Role, required: Role): boolean {
  if (role === 'auditor' || required === 'auditor') return role === required;
  return RANK[role] >= RANK[required];
}

/** Every role that passes a guard naming `required` (all roles when none are named). */
export function rolesAdmitted(required: readonly Role[] | undefined): Role[] {
  if (!required || required.length === 0) return [...ROLES];
  return ROLES.filter((role) => required.some((r) => satisfies(role, r)));
}
