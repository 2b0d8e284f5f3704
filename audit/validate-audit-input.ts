// Audit events outlive the data they describe (they must survive erasure), so they must never hold personal
// values. The types say "ids and codes"; this check makes the wrong thing fail loudly in development instead
// of leaking quietly: short single tokens only, so names, addresses, notes and messages do not fit.
import { CustodianError } from '../core/errors.ts';
import { isAuditAction, type AuditAction } from './actions.ts';
import type { AuditDetail } from './canonical-event.ts';

const MAX_TOKEN_LENGTH = 200;
const MAX_DETAIL_KEYS = 32;
const MAX_RECORD_IDS = 10_000;

/**
 * What a caller says happened. Pass ids and codes ONLY: staff and subject ids, record ids, register purpose ids,
 * error or reason codes, counts. Never a name, email, phone, address, free-text note or a field's value.
 */
export interface AuditInput {
  /** Who acted: `staff:<id>`, `subject:<id>`, `system:<job>`; never an email or a typed-in user name. */
  actor: string;
  action: AuditAction;
  subjectId?: string | null;
  recordIds?: readonly string[];
  /** A purpose id from the register. */
  purpose?: string | null;
  /** Short codes and numbers (`{ field: 'referral.reason', reason: 'retention_expired', count: 3 }`). */
  detail?: AuditDetail;
}

export interface ValidAuditInput {
  actor: string;
  action: AuditAction;
  subjectId: string | null;
  /** Lower-case, unique, sorted: the order they are stored and hashed in. */
  recordIds: string[];
  purpose: string | null;
  detail: AuditDetail;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
// Whitespace and control characters: a value with spaces is prose, and prose is where personal data hides.
const NOT_A_TOKEN = /[\s\p{Cc}]/u;

export function validateAuditInput(input: AuditInput): ValidAuditInput {
  if (!isAuditAction(input.action)) refuse(`unknown audit action ${JSON.stringify(input.action)}`);
  return {
    actor: token('actor', input.actor),
    action: input.action,
    subjectId: input.subjectId == null ? null : uuid('subjectId', input.subjectId),
    recordIds: recordIds(input.recordIds ?? []),
    purpose: input.purpose == null ? null : token('purpose', input.purpose),
    detail: detail(input.detail ?? {}),
  };
}

/** Register fingerprints and similar context strings follow the same rule as actor. */
export function validateAuditToken(what: string, value: string): string {
  return token(what, value);
}

function token(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) refuse(`${what} must be a non-empty string`);
  if (value.length > MAX_TOKEN_LENGTH) refuse(`${what} is longer than ${MAX_TOKEN_LENGTH} characters: audit events take ids and codes, not text`);
  if (NOT_A_TOKEN.test(value)) refuse(`${what} contains whitespace or control characters: audit events take ids and codes, not text`);
  if (value.includes('@')) refuse(`${what} looks like an email address: audit events take ids, never contact details`);
  if (!value.isWellFormed()) refuse(`${what} is not well-formed Unicode`);
  return value;
}

function uuid(what: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) refuse(`${what} must be a uuid`);
  return value.toLowerCase();
}

function recordIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) refuse('recordIds must be an array of uuids');
  if (ids.length > MAX_RECORD_IDS) refuse(`more than ${MAX_RECORD_IDS} record ids in one event: split it`);
  return [...new Set(ids.map((id) => uuid('recordIds[]', id)))].sort();
}

function detail(value: AuditDetail): AuditDetail {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    refuse('detail must be a plain object');
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_DETAIL_KEYS) refuse(`detail has more than ${MAX_DETAIL_KEYS} keys`);
  const out: AuditDetail = {};
  for (const key of keys) {
    if (!DETAIL_KEY.test(key)) refuse(`detail key ${JSON.stringify(key.slice(0, 40))} must be a short identifier`);
    const v: unknown = value[key];
    if (v === undefined) continue;
    if (v === null || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) refuse(`detail.${key} must be a finite number`);
      out[key] = v;
    } else if (typeof v === 'string') out[key] = v === '' ? v : token(`detail.${key}`, v);
    else refuse(`detail.${key} must be a string, number, boolean or null (no nested objects or arrays)`);
  }
  return out;
}

function refuse(message: string): never {
  throw new CustodianError('audit_input_invalid', message);
}
