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
  /** '*' across the register; '<field>=<value>' within an issuer; '' when nobody knows who issued it. */
  scope: ColumnType<string, string | undefined, string>;
  strong: ColumnType<boolean, boolean | undefined, boolean>;
  verified: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

type ReviewState = 'open' | 'merged' | 'rejected';

interface IdentityReviewTable {
  id: string;
  subject_id: string;
  candidate_id: string;
  signals: string[];
  state: ColumnType<ReviewState, ReviewState | undefined, ReviewState>;
  opened_at: Timestamp;
  decided_at: Timestamp | null;
  decided_by: string | null;
  merge_id: string | null;
}

type MergeState = 'pending' | 'confirmed' | 'undone';

export interface SubjectMergeTable {
  id: string;
  from_subject: string;
  into_subject: string;
  record_ids: string[];
  state: ColumnType<MergeState, MergeState | undefined, MergeState>;
  merged_at: Timestamp;
  merged_by: string;
  decided_at: Timestamp | null;
  decided_by: string | null;
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

/** A file field's file (db/migrations/0014_record_files.sql): the record's value is its name. */
interface RecordFileTable {
  record_id: string;
  media_type: string;
  size_bytes: number;
  /** Sealed under the person's data key, bound to `file:<record id>`. */
  content: Uint8Array;
}

interface RetentionOverrideTable {
  id: string;
  subject_id: string;
  reason: string;
  records: number;
  actor: string;
  at: Timestamp;
}

export interface SubjectTables {
  subject: SubjectTable;
  subject_identifier: SubjectIdentifierTable;
  record: RecordTable;
  record_file: RecordFileTable;
  identity_review: IdentityReviewTable;
  subject_merge: SubjectMergeTable;
  retention_override: RetentionOverrideTable;
}
