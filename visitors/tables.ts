// Tables owned by visitors/ (db/migrations/0006_consent_visitors_access_log.sql).
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

/** A visitor's server-side session: the cookie holds a random id, the row only its SHA-256, the data and expiry. */
interface VisitorSessionTable {
  id_hash: Uint8Array;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface VisitorTables {
  visitor_session: VisitorSessionTable;
}
