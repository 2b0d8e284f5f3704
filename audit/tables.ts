// Tables owned by audit/ (db/migrations/0002_audit.sql). Append-only: no column is updatable through Kysely,
// and the database refuses UPDATE, DELETE and TRUNCATE on audit_event anyway.
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

/** bigint: the pg driver returns it as a string, PGlite as a number; read it with Number(). */
type BigintColumn = ColumnType<string | number, number, never>;
type Frozen<T> = ColumnType<T, T, never>;

interface AuditEventTable {
  partition: Frozen<string>;
  seq: BigintColumn;
  id: Frozen<string>;
  at: ColumnType<Date, Date | string, never>;
  actor: Frozen<string>;
  action: Frozen<string>;
  subject_id: Frozen<string | null>;
  record_ids: ColumnType<string[], string[] | undefined, never>;
  purpose: Frozen<string | null>;
  fingerprint: Frozen<string | null>;
  detail: ColumnType<Record<string, string | number | boolean | null>, string | undefined, never>;
  prev_hash: Frozen<Uint8Array>;
  hash: Frozen<Uint8Array>;
}

interface AuditHeadTable {
  partition: string;
  seq: ColumnType<string | number, number, number>;
  hash: Uint8Array;
  checkpoint: Uint8Array;
  updated_at: Timestamp;
}

interface AuditCheckpointTable {
  seq: ColumnType<string | number, number, never>;
  at: ColumnType<Date, Date | string, never>;
  body: Frozen<string>;
  signature: Frozen<Uint8Array>;
}

export interface AuditTables {
  audit_event: AuditEventTable;
  audit_head: AuditHeadTable;
  audit_checkpoint: AuditCheckpointTable;
}
