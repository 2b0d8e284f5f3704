// Tables owned by consent/ (db/migrations/0006, 0013 and 0017): the consent ledger (append-only), the marketing
// suppression list (append-only keyed hashes), newsletter sign-ups and confirmation mails of email consent.
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

export type ConsentState = 'given' | 'withdrawn' | 'refused' | 'expired' | 'objected' | 'pending' | 'soft-opt-in';
export type ConsentMethod = 'form' | 'banner' | 'email-link' | 'gpc' | 'staff' | 'privacy-centre' | 'api';

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
  /** Events recorded together share one receipt; null on events from before receipts (their receipt is their id). */
  receipt_id: ColumnType<string | null, string | null | undefined, never>;
  /** A given consent lapses then (the purpose's consent-lasts). */
  expires_at: ColumnType<Date | null, Date | string | null | undefined, never>;
  language: ColumnType<string | null, string | null | undefined, never>;
  /** A soft opt-in's sale or negotiation (`sale:<point>; <what is sold>`), an objection's form field. */
  context: ColumnType<string | null, string | null | undefined, never>;
}

export type SuppressionChannel = '*' | 'email' | 'sms' | 'phone' | 'automated-call' | 'post';
export type SuppressionReason = 'unsubscribed' | 'objected' | 'erased' | 'refused';

interface MarketingSuppressionTable {
  hash: Uint8Array;
  channel: SuppressionChannel;
  reason: SuppressionReason;
  created_at: Timestamp;
}

interface NewsletterSubscriberTable {
  id: string;
  email: string;
  language: string;
  interests: ColumnType<string[], string[] | undefined, string[]>;
  state: 'pending' | 'confirmed';
  created_at: Timestamp;
  confirm_by: Timestamp;
  confirmed_at: Timestamp | null;
  notice_fingerprint: string;
}

/** A confirmation mail sent for email consent ticked on a public form, until its link is used or runs out. */
interface ConsentConfirmationTable {
  /** The pending ledger event the link confirms. */
  event_id: string;
  subject_id: string;
  purpose: string;
  channel: string | null;
  /** The keyed hash of the address it was sent to (never the address). */
  address_hash: Uint8Array;
  sent_at: Timestamp;
  confirm_by: Timestamp;
}

export interface ConsentTables {
  consent_event: ConsentEventTable;
  marketing_suppression: MarketingSuppressionTable;
  newsletter_subscriber: NewsletterSubscriberTable;
  consent_confirmation: ConsentConfirmationTable;
}
