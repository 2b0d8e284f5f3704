// Typed view of the database for Kysely. The SQL in migrations/ is the source of truth; each concept folder
// declares the tables it owns (its tables.ts) and they are joined here.
import type { ColumnType, Generated, Selectable } from 'kysely';
import type { AuditTables } from '../audit/tables.ts';
import type { CryptoTables } from '../crypto/tables.ts';
import type { StaffTables } from '../staff/tables.ts';
import type { SubjectTables } from '../subjects/tables.ts';

export type Timestamp = ColumnType<Date, Date | string, Date | string>;

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

export interface Tables extends AuditTables, CryptoTables, StaffTables, SubjectTables {
  register_version: RegisterVersionTable;
}

export type RegisterVersionRow = Selectable<RegisterVersionTable>;
