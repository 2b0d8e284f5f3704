// Tables owned by requests/ (db/migrations/0010_requests.sql): rights requests, their pauses, the people they are
// about and what was decided per record.
import type { ColumnType } from 'kysely';
import type { Timestamp } from '../db/tables.ts';

export const REQUEST_TYPES = ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent', 'complaint'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];
const REQUEST_STATUSES = ['unconfirmed', 'open', 'completed', 'refused', 'withdrawn', 'expired'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const REQUEST_CHANNELS = ['web', 'email', 'post', 'phone', 'in-person'] as const;
export type RequestChannel = (typeof REQUEST_CHANNELS)[number];
export const OUTCOMES = ['done', 'partly-done', 'refused', 'nothing-held'] as const;
export type Outcome = (typeof OUTCOMES)[number];
const DECISION_ACTIONS = ['disclosed', 'withheld', 'exported', 'erased', 'kept', 'restricted', 'unrestricted', 'rectified'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** A calendar date, YYYY-MM-DD. The pg drivers are told to hand dates back as text (db/connect.ts). */
type CalendarDate = ColumnType<string, string, string>;

export interface OnBehalf {
  /** Who asks: their name as given. */
  readonly name: string;
  readonly relationship: 'parent' | 'guardian' | 'solicitor' | 'insurer' | 'carer' | 'attorney' | 'other';
  /** What authority was shown or claimed (a signed letter of authority, parental responsibility...). */
  readonly authority: string;
}

export interface Verification {
  readonly method: 'email-link' | 'signed-in' | 'document-seen' | 'known-to-staff' | 'call-back';
  /** What was seen, described (a passport, last four digits...): never a copy. */
  readonly seen: string | null;
  readonly by: string;
  readonly at: string;
}

/** An appropriate health professional's opinion on releasing health data in an access answer. */
export interface HealthOpinion {
  /** Their name and profession as recorded (e.g. "Dr A. Jones, consultant radiologist"). */
  readonly professional: string;
  readonly givenOn: string;
  /** release: nothing in it would cause serious harm; withhold: it would (DPA 2018 Sch. 3 para. 5). */
  readonly decision: 'release' | 'withhold';
  readonly recordedBy: string;
}

interface RightsRequestTable {
  id: string;
  type: RequestType;
  status: RequestStatus;
  channel: RequestChannel;
  jurisdiction: 'uk' | 'eu';
  received_at: Timestamp;
  received_on: CalendarDate;
  identity_asked_on: CalendarDate | null;
  identity_received_on: CalendarDate | null;
  relevant_on: CalendarDate;
  due_on: CalendarDate;
  extension_months: ColumnType<number, number | undefined, number>;
  extension_reason: string | null;
  extension_told_on: CalendarDate | null;
  contact_email: string | null;
  contact_name: string | null;
  details: string | null;
  email_hash: Uint8Array | null;
  on_behalf: ColumnType<OnBehalf | null, string | null, string | null>;
  duplicate_of: string | null;
  confirm_token_hash: Uint8Array | null;
  confirm_expires_at: Timestamp | null;
  confirmed_at: Timestamp | null;
  verification: ColumnType<Verification | null, string | null, string | null>;
  fee_reason: string | null;
  health_opinion: ColumnType<HealthOpinion | null, string | null, string | null>;
  answer_token_hash: Uint8Array | null;
  answer_expires_at: Timestamp | null;
  acknowledged_on: CalendarDate | null;
  outcome: Outcome | null;
  outcome_reasons: ColumnType<string[], string[] | undefined, string[]>;
  closed_at: Timestamp | null;
  closed_by: string | null;
  created_by: string;
  contact_purged_at: Timestamp | null;
}

interface RightsRequestPauseTable {
  request_id: string;
  from_on: CalendarDate;
  to_on: CalendarDate | null;
  justification: string;
  paused_by: string;
  resumed_by: string | null;
}

interface RightsRequestSubjectTable {
  request_id: string;
  subject_id: string;
  linked_by: string;
  linked_at: Timestamp;
}

interface RightsRequestDecisionTable {
  request_id: string;
  record_id: string;
  action: DecisionAction;
  reason: string | null;
  decided_at: Timestamp;
  decided_by: string;
}

type NoticeState = 'to-send' | 'sent' | 'done' | 'impossible';

interface RecipientNoticeTable {
  id: string;
  request_id: string;
  subject_id: string;
  recipient: string;
  change: 'rectification' | 'erasure' | 'restriction';
  record_ids: string[];
  state: NoticeState;
  mail_id: string | null;
  created_at: Timestamp;
  completed_at: Timestamp | null;
  completed_by: string | null;
  reason: string | null;
}

export interface RequestTables {
  recipient_notice: RecipientNoticeTable;
  rights_request: RightsRequestTable;
  rights_request_pause: RightsRequestPauseTable;
  rights_request_subject: RightsRequestSubjectTable;
  rights_request_decision: RightsRequestDecisionTable;
}
