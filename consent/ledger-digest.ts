// The consent ledger, vouched for by the audit trail. Every `consent.record` event names the ledger rows it records
// (`receipt`: the rows of a receipt; `consent`: one row) and carries `rows`, a SHA-256 digest of them as stored. The
// audit chains are hash-linked and their heads signed, so an event cannot be changed unseen; through its digest, nor
// can the rows it names. `custodian audit verify` recomputes every digest in the database (consent-store's
// ledgerMismatches) and looks for rows no event names: a "refused" turned into "given", a row deleted to uncover an
// older consent, or a consent slipped in by hand are all named.
//
// The digested text is what PostgreSQL's json_build_array(...)::text makes of the stored columns, so that verification
// can run in SQL over millions of rows: one line per row, rows in id order, joined by newlines; times as microseconds
// since 1970. json_build_array separates items with ", " and escapes strings as JSON.stringify does (quotes,
// backslashes, control characters; nothing else).
import { createHash } from 'node:crypto';
import type { AuditInput } from '../audit/auditor.ts';

/** One ledger row as stored, every column the digest covers. */
export interface DigestRow {
  readonly id: string;
  readonly receiptId: string | null;
  readonly subjectId: string | null;
  readonly visitorId: string | null;
  readonly purpose: string;
  readonly channel: string | null;
  readonly state: string;
  readonly method: string;
  readonly point: string | null;
  readonly noticeFingerprint: string;
  readonly at: Date;
  readonly expiresAt: Date | null;
  readonly language: string | null;
  readonly context: string | null;
}

/** The columns in digest order, as SQL (consent-store's verification builds the same line in the database). */
export const DIGEST_LINE_SQL = `json_build_array(c.id, c.receipt_id, c.subject_id, c.visitor_id, c.purpose, c.channel, c.state, c.method,
  c.collection_point, c.notice_fingerprint, (extract(epoch from c.at) * 1000000)::bigint,
  (extract(epoch from c.expires_at) * 1000000)::bigint, c.language, c.context)::text`;

const item = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
const micros = (d: Date | null): string => (d === null ? 'null' : `${BigInt(d.getTime()) * 1000n}`);

function line(r: DigestRow): string {
  const items = [
    item(r.id.toLowerCase()),
    item(r.receiptId?.toLowerCase() ?? null),
    item(r.subjectId?.toLowerCase() ?? null),
    item(r.visitorId),
    item(r.purpose),
    item(r.channel),
    item(r.state),
    item(r.method),
    item(r.point),
    item(r.noticeFingerprint),
    micros(r.at),
    micros(r.expiresAt),
    item(r.language),
    item(r.context),
  ];
  return `[${items.join(', ')}]`;
}

/** The digest of some rows: hex SHA-256 of their lines in id order, joined by newlines. */
function ledgerDigest(rows: readonly DigestRow[]): string {
  const lines = rows.map((r) => ({ id: r.id.toLowerCase(), text: line(r) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256')
    .update(lines.map((l) => l.text).join('\n'))
    .digest('hex');
}

/**
 * The audit events with the digest of the rows each names (`receipt` or `consent` in its detail) added as `rows`.
 * Events naming no rows are returned as they are.
 */
export function vouchingFor(audit: readonly AuditInput[], rows: readonly DigestRow[]): AuditInput[] {
  const byKey = new Map<string, DigestRow[]>();
  for (const r of rows) {
    const key = (r.receiptId ?? r.id).toLowerCase();
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(r);
  }
  return audit.map((a) => {
    const named = a.detail?.receipt ?? a.detail?.consent;
    const covered = typeof named === 'string' ? byKey.get(named.toLowerCase()) : undefined;
    return covered ? { ...a, detail: { ...a.detail, rows: ledgerDigest(covered) } } : a;
  });
}
