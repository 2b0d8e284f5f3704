// Tables owned by subjects/ (db/migrations/0003_subjects_records.sql).
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

interface SubjectTable {
  id: string;
  kind: string;
  created_at: Timestamp;
  merged_into: string | null;
  erased_at: Timestamp | null;
}

interface SubjectIdentifierTable {
  kind: string;
  value: string;
  subject_id: string;
  created_at: Timestamp;
}

type RecordState = 'active' | 'restricted' | 'erased';

export interface RecordTable {
  id: string;
  subject_id: string;
  collection_point: string | null;
  field: string;
  category: string;
  purposes: string[];
  bases: string[];
  source: string;
  channel: string;
  collected_at: Timestamp;
  received_at: Timestamp | null;
  retention_event: string;
  retention_starts_at: Timestamp | null;
  state: ColumnType<RecordState, RecordState | undefined, RecordState>;
  value_text: string | null;
  value_sealed: Uint8Array | null;
  register_fingerprint: string;
}

export interface SubjectTables {
  subject: SubjectTable;
  subject_identifier: SubjectIdentifierTable;
  record: RecordTable;
}
