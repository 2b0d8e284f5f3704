// The audit events staff/ writes. The writer is passed in (audit/append-audit-event.ts in the app) and is always
// called inside the transaction that makes the change, so a change and its audit row commit or fail together.
import type { Transaction } from 'kysely';
import type { Tables } from '../db/tables.ts';

export type StaffAuditAction =
  | 'auth.sign-in'
  | 'auth.sign-in-failed'
  | 'auth.sign-out'
  | 'auth.locked'
  | 'auth.password-change'
  | 'staff.create'
  | 'staff.role-change'
  | 'staff.disable';

/** Ids and codes only, never an email or free text (audit/validate-audit-input.ts refuses them). */
export type StaffAuditDetail = Record<string, string | number | boolean | null>;

export interface StaffAuditInput {
  /** `staff:<uuid>`, `system:cli`, `system:first-start` or `anonymous` (a failed sign-in for no known account). */
  readonly actor: string;
  readonly action: StaffAuditAction;
  readonly subjectId?: string | null;
  readonly recordIds?: readonly string[];
  readonly purpose?: string | null;
  readonly detail?: StaffAuditDetail;
}

export type StaffAudit = (trx: Transaction<Tables>, input: StaffAuditInput) => Promise<void>;

export function staffActor(userId: string): string {
  return `staff:${userId}`;
}
