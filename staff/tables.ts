// Tables owned by staff/ (db/migrations/0005_staff.sql).
import type { ColumnType, Selectable } from 'kysely';
import type { Timestamp } from '../db/tables.ts';
import type { Role } from './roles.ts';

interface StaffUserTable {
  id: string;
  email: string;
  role: Role;
  password_hash: string;
  must_change_password: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
  password_changed_at: Timestamp;
}

interface StaffSessionTable {
  id_hash: Uint8Array;
  user_id: string;
  csrf_secret: Uint8Array;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  absolute_expires_at: Timestamp;
  ip_truncated: string | null;
  user_agent_family: string | null;
}

interface SignInAttemptTable {
  key: string;
  at: Timestamp;
}

export interface StaffTables {
  staff_user: StaffUserTable;
  staff_session: StaffSessionTable;
  sign_in_attempt: SignInAttemptTable;
}

export type StaffUserRow = Selectable<StaffUserTable>;
