// Tables owned by crypto/ (db/migrations/0004_subject_keys.sql, 0013 for hash_key).
import type { Timestamp } from '../db/tables.ts';

/**
 * One data key (DEK) per subject, stored only wrapped by a master key. A shredded row keeps its place (so no new
 * key is ever made for an erased subject) with wrapped_key and master_key_id set to NULL.
 */
interface SubjectKeyTable {
  subject_id: string;
  master_key_id: string | null;
  wrapped_key: Uint8Array | null;
  created_at: Timestamp;
  rotated_at: Timestamp | null;
  shredded_at: Timestamp | null;
}

/** A secret for keyed hashes (the marketing suppression list), stored only wrapped by a master key. */
interface HashKeyTable {
  name: string;
  master_key_id: string;
  wrapped_key: Uint8Array;
  created_at: Timestamp;
  rotated_at: Timestamp | null;
}

export interface CryptoTables {
  subject_key: SubjectKeyTable;
  hash_key: HashKeyTable;
}
