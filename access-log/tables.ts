// Tables owned by access-log/ (db/migrations/0006_consent_visitors_access_log.sql).
import type { Timestamp } from '../db/tables.ts';

/** One line per request: route pattern and status, and (only when the register declares the purpose) a truncated IP. */
export interface AccessLogTable {
  at: Timestamp;
  method: string;
  route: string;
  status: number;
  duration_ms: number;
  ip_prefix: string | null;
  browser: string | null;
}

export interface AccessLogTables {
  access_log: AccessLogTable;
}
