// Tables owned by consent/ (db/migrations/0006_consent_visitors_access_log.sql): the consent ledger, append-only.
import type { Timestamp } from '../db/tables.ts';

type ConsentState = 'given' | 'withdrawn' | 'refused' | 'expired';
export type ConsentMethod = 'form' | 'banner' | 'email-link' | 'gpc' | 'staff' | 'privacy-centre';

interface ConsentEventTable {
  id: string;
  subject_id: string | null;
  visitor_id: string | null;
  purpose: string;
  channel: string | null;
  state: ConsentState;
  method: ConsentMethod;
  collection_point: string | null;
  notice_fingerprint: string;
  at: Timestamp;
}

export interface ConsentTables {
  consent_event: ConsentEventTable;
}
