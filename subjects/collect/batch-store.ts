// The one statement that stores a collection batch: identifiers, subjects, their data keys, consents, suppression
// entries, records and audit events, as data-modifying CTEs of a single statement (one round trip while the audit heads are locked).
// The documented exception to "one owner per table": the statement writes other folders' tables, but every part of
// it is built by the store that owns that table (subjects-store and files-store, crypto's subject-keys-store,
// consent-store and suppression-store, the auditor); only their composition is here.
import { sql, type Transaction } from 'kysely';
import type { AuditInput, Auditor } from '../../audit/auditor.ts';
import { givenConsentDigestRows, insertGivenConsentsSql, type GivenConsentRow } from '../../consent/consent-store.ts';
import { vouchingFor } from '../../consent/ledger-digest.ts';
import { insertSuppressionsSql, type SuppressionEntry } from '../../consent/suppression-store.ts';
import { insertKeyRowsSql, type NewKeyRow } from '../../crypto/subject-keys-store.ts';
import { prepared } from '../../db/prepared.ts';
import type { Tables } from '../../db/tables.ts';
import { emptyFileColumns, type FileColumns, insertRecordFilesSql } from '../files-store.ts';
import { insertReviewItemsSql, type NewReviewItem } from '../identity-store.ts';
import { claimIdentifiersSql, insertRecordsSql, insertSubjectsSql, type NewIdentifier, type RecordColumns } from '../subjects-store.ts';

export interface BatchRows {
  readonly now: Date;
  /** The register's fingerprint, stamped on records and consents. */
  readonly fingerprint: string;
  readonly claims: readonly NewIdentifier[];
  readonly newSubjects: readonly { id: string; kind: string }[];
  readonly reviewItems: readonly NewReviewItem[];
  readonly newKeys: readonly NewKeyRow[];
  readonly consents: readonly GivenConsentRow[];
  /** Contact points put on the marketing suppression list by objections ticked on a form or sent as GPC. */
  readonly suppressions?: readonly SuppressionEntry[];
  readonly records: RecordColumns;
  /** Files of file fields, sealed, for records of this batch. */
  readonly files?: FileColumns;
  readonly audit: readonly AuditInput[];
}

/** Locks the audit heads, chains the events, and writes everything. */
export async function writeBatchStatement(trx: Transaction<Tables>, auditor: Auditor, rows: BatchRows): Promise<void> {
  // Each consent.record event carries the digest of the ledger rows it names (consent/ledger-digest.ts).
  const audit = vouchingFor(rows.audit, givenConsentDigestRows(rows.consents, rows.fingerprint, rows.now));
  const chained = await auditor.prepare(trx, audit, rows.now);
  // The same text for every batch (rows travel as array parameters): prepared once per connection.
  await prepared(sql`
    WITH claimed AS (${claimIdentifiersSql(rows.claims, rows.now)}),
    subjects AS (${insertSubjectsSql(rows.newSubjects, rows.now)}),
    review_items AS (${insertReviewItemsSql(rows.reviewItems, rows.now)}),
    subject_keys AS (${insertKeyRowsSql(rows.newKeys, rows.now)}),
    consents AS (${insertGivenConsentsSql(rows.consents, rows.fingerprint, rows.now)}),
    suppressions AS (${insertSuppressionsSql(rows.suppressions ?? [], 'objected', rows.now)}),
    records AS (${insertRecordsSql(rows.records, rows.fingerprint, rows.now)}),
    record_files AS (${insertRecordFilesSql(rows.files ?? emptyFileColumns())}),
    audit_events AS (${chained.insertEvents}),
    audit_heads AS (${chained.advanceHeads})
    SELECT 1`).execute(trx);
}
