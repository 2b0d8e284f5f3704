// The audit log as the staff console and `custodian audit log` read it: newest first, filtered, paged by an opaque
// cursor.
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { Db } from '../db/connect.ts';
import type { AuditAction } from './actions.ts';
import { countHeads, selectAuditLog } from './audit-store.ts';
import type { AuditDetail } from './canonical-event.ts';

export interface AuditLogFilters {
  subjectId?: string;
  actor?: string;
  action?: AuditAction;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** 1 to 1000. */
  limit: number;
  /** The `next` cursor of the previous page. */
  before?: string;
}

export interface AuditLogEntry {
  id: string;
  partition: string;
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subjectId: string | null;
  recordIds: string[];
  purpose: string | null;
  fingerprint: string | null;
  detail: AuditDetail;
}

export interface AuditLogPage {
  events: AuditLogEntry[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)_(\d{1,18})_([0-9a-f-]{36})$/;

export async function queryAuditLog(db: Db, filters: AuditLogFilters): Promise<AuditLogPage> {
  const limit = filters.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CustodianError('bad_request', 'limit must be an integer from 1 to 1000');
  if (filters.subjectId !== undefined && !isUuid(filters.subjectId)) throw new CustodianError('bad_request', 'subjectId must be a uuid');
  let before: { at: string; seq: string; id: string } | undefined;
  if (filters.before !== undefined) {
    const m = CURSOR.exec(filters.before);
    if (!m) throw new CustodianError('bad_request', 'before is not a cursor this log returned');
    before = { at: m[1]!, seq: m[2]!, id: m[3]! };
  }
  const rows = await selectAuditLog(db.kysely, {
    limit: limit + 1,
    ...(filters.subjectId !== undefined ? { subjectId: filters.subjectId.toLowerCase() } : {}),
    ...(filters.actor !== undefined ? { actor: filters.actor } : {}),
    ...(filters.action !== undefined ? { action: filters.action } : {}),
    ...(filters.from !== undefined ? { from: filters.from } : {}),
    ...(filters.to !== undefined ? { to: filters.to } : {}),
    ...(before ? { before } : {}),
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map((r) => ({
      id: r.id,
      partition: r.partition,
      seq: Number(r.seq),
      at: new Date(r.at_text),
      actor: r.actor,
      action: r.action,
      subjectId: r.subject_id,
      recordIds: r.record_ids,
      purpose: r.purpose,
      fingerprint: r.fingerprint,
      detail: r.detail,
    })),
    next: rows.length > limit && last ? `${last.at_text}_${last.seq}_${last.id}` : null,
  };
}

/** Whether any audit head exists: a trail signed with some master key, which a new key could never verify. */
export async function auditTrailExists(db: Db): Promise<boolean> {
  return (await countHeads(db.kysely)) > 0;
}
