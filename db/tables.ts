// Typed view of the database for Kysely. The SQL in migrations/ is the source of truth; each folder that owns tables
// declares them (its tables.ts) and they are joined here: the one place that imports from every floor, types only.
import type { ColumnType } from 'kysely';
import type { AccessLogTables } from '../access-log/tables.ts';
import type { AuditTables } from '../audit/tables.ts';
import type { ConsentTables } from '../consent/tables.ts';
import type { CryptoTables } from '../crypto/tables.ts';
import type { DisclosureTables } from '../disclosures/tables.ts';
import type { MailTables } from '../mail/tables.ts';
import type { RegisterTables } from '../register/tables.ts';
import type { RequestTables } from '../requests/tables.ts';
import type { StaffTables } from '../staff/tables.ts';
import type { SubjectTables } from '../subjects/tables.ts';
import type { VisitorTables } from '../visitors/tables.ts';

export type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface Tables
  extends AccessLogTables,
    AuditTables,
    ConsentTables,
    CryptoTables,
    DisclosureTables,
    MailTables,
    RegisterTables,
    RequestTables,
    StaffTables,
    SubjectTables,
    VisitorTables {}
