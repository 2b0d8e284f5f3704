// Typed view of the database for Kysely. The SQL in migrations/ is the source of truth; keep these in step.
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

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

export interface Tables {
  register_version: RegisterVersionTable;
}

export type RegisterVersionRow = Selectable<RegisterVersionTable>;
