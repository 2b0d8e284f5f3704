// The exact bytes an audit event's hash covers. Append and verify both build them here, so they cannot drift.
// hash = SHA-256(prev_hash || UTF-8 of canonicalEventText(event)); the first event of a chain links to 32 zero bytes.
import { hash } from 'node:crypto';

export type AuditDetail = Record<string, string | number | boolean | null>;

/** Hex of the 32 zero bytes the first event of every chain links to. */
export const GENESIS_HASH_HEX = '0'.repeat(64);

/** A bump of this tag is how a future format change stays verifiable beside old chains. */
const FORMAT = 'custodian-audit-v1';

export interface CanonicalEvent {
  partition: string;
  seq: number;
  id: string;
  /** UTC ISO 8601 with microseconds (the precision of timestamptz), e.g. 2025-03-01T09:00:00.000000Z. */
  at: string;
  actor: string;
  action: string;
  subjectId: string | null;
  /** PostgreSQL's text form of the uuid[] as stored, e.g. `{a,b}`: hashing it verbatim catches any change to the array. */
  recordIds: string;
  purpose: string | null;
  fingerprint: string | null;
  /** Parsed detail; keys are sorted here, so the storage order of jsonb does not matter. */
  detail: unknown;
}

/** A JSON array: unambiguous field boundaries for any content, and one native call to build. */
export function canonicalEventText(e: CanonicalEvent): string {
  return JSON.stringify([FORMAT, e.partition, e.seq, e.id, e.at, e.actor, e.action, e.subjectId, e.recordIds, e.purpose, e.fingerprint, sortKeys(e.detail)]);
}

/** How every canonical text of a partition begins: the format tag and the partition, up to the seq. */
export function canonicalPrefix(partition: string): string {
  return `[${JSON.stringify(FORMAT)},${JSON.stringify(partition)},`;
}

/** The canonical text of a stored detail (jsonb's text), as canonicalEventText writes it; null if it is not JSON. */
export function canonicalDetailText(stored: string): string | null {
  try {
    return JSON.stringify(sortKeys(JSON.parse(stored)));
  } catch {
    return null;
  }
}

/** The text PostgreSQL prints for a uuid[] of lower-case ids (uuids never need quoting). */
export function recordIdsText(ids: readonly string[]): string {
  return `{${ids.join(',')}}`;
}

/** toISOString has milliseconds; timestamptz keeps microseconds, and the hash must cover all of them. */
export function isoMicros(at: Date): string {
  return `${at.toISOString().slice(0, 23)}000Z`;
}

/** SQL for the same text as isoMicros, read from a timestamptz column. */
export const AT_MICROS_SQL = `to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const keys = Object.keys(value);
  if (keys.length === 0) return value;
  keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

/**
 * Returns `(prevHex, canonical) => hashHex`. One reusable buffer per hasher, so verifying millions of events does
 * not allocate a concatenation per event; hex in and out because that is how both callers hold hashes.
 */
export function createChainHasher(): (prevHex: string, canonical: string) => string {
  let buf = Buffer.allocUnsafe(4096);
  return (prevHex, canonical) => {
    const max = 32 + canonical.length * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (max > buf.length) buf = Buffer.allocUnsafe(max * 2);
    buf.write(prevHex, 0, 32, 'hex');
    const n = buf.write(canonical, 32, 'utf8');
    return hash('sha256', buf.subarray(0, 32 + n), 'hex');
  };
}
