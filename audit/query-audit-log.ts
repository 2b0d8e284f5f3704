// The audit log as the staff console reads it: newest first, filtered, paged by an opaque cursor.
import { sql } from 'kysely';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import type { AuditAction } from './actions.ts';
import { AT_MICROS_SQL, type AuditDetail } from './canonical-event.ts';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)_(\d{1,18})_([0-9a-f-]{36})$/;

export async function queryAuditLog(db: Db, filters: AuditLogFilters): Promise<AuditLogPage> {
  const limit = filters.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CustodianError('bad_request', 'limit must be an integer from 1 to 1000');
  if (filters.subjectId !== undefined && !UUID.test(filters.subjectId)) throw new CustodianError('bad_request', 'subjectId must be a uuid');

  let q = db.kysely
    .selectFrom('audit_event')
    .select([
      'id', 'partition', 'seq', 'actor', 'action', 'subject_id', 'record_ids', 'purpose', 'fingerprint', 'detail',
      // Microseconds, so the cursor is exact even for events not written through Date.
      sql<string>`${sql.raw(AT_MICROS_SQL)}`.as('at_text'),
    ])
    // A batch shares one instant: seq keeps its append order, id settles ties across partitions.
    .orderBy('at', 'desc')
    .orderBy('seq', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filters.subjectId !== undefined) q = q.where('subject_id', '=', filters.subjectId.toLowerCase());
  if (filters.actor !== undefined) q = q.where('actor', '=', filters.actor);
  if (filters.action !== undefined) q = q.where('action', '=', filters.action);
  if (filters.from !== undefined) q = q.where('at', '>=', filters.from);
  if (filters.to !== undefined) q = q.where('at', '<', filters.to);
  if (filters.before !== undefined) {
    const m = CURSOR.exec(filters.before);
    if (!m) throw new CustodianError('bad_request', 'before is not a cursor this log returned');
    q = q.where(sql<boolean>`(at, seq, id) < (${m[1]}::timestamptz, ${m[2]}::bigint, ${m[3]}::uuid)`);
  }

  const rows = await q.execute();
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
