// Tables owned by register/ (db/migrations/0001_register_versions.sql): every register version this installation
// has served, which is what makes each one a notice version.
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

export interface RegisterVersionTable {
  id: Generated<number>;
  fingerprint: string;
  canonical: ColumnType<unknown, string, string>;
  source_yaml: string;
  notice_version: string | null;
  effective: ColumnType<Date | string, string, string>;
  first_served_at: Timestamp;
  last_served_at: Timestamp;
}

export interface RegisterTables {
  register_version: RegisterVersionTable;
}
