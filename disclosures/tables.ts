// Tables owned by disclosures/ (db/migrations/0010_requests.sql): the disclosure ledger.
import type { Timestamp } from '../db/tables.ts';

interface DisclosureTable {
  id: string;
  subject_id: string;
  recipient: string;
  purpose: string;
  categories: string[];
  record_ids: string[];
  disclosed_at: Timestamp;
  recorded_at: Timestamp;
  recorded_by: string;
  reference: string | null;
}

export interface DisclosureTables {
  disclosure: DisclosureTable;
}
