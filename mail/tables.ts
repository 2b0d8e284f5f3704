// Tables owned by mail/ (db/migrations/0011_mail_outbox.sql).
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

export type MailState = 'queued' | 'sending' | 'sent' | 'failed' | 'held';

/** One outgoing message. Its content (address, subject line, bodies, headers) is cleared after the retention period. */
export interface MailOutboxTable {
  id: string;
  kind: string;
  subject_id: string | null;
  request_id: string | null;
  to_address: string;
  from_address: string;
  subject_line: string;
  body_text: string;
  body_html: string | null;
  headers: ColumnType<Record<string, string>, string | undefined, string>;
  state: MailState;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp | null;
  last_error: string | null;
  message_id: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  content_erased_at: Timestamp | null;
}

export interface MailTables {
  mail_outbox: MailOutboxTable;
}
