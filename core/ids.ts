// Custodian ids are UUIDs. One pattern, so every edge refuses a malformed id the same way.
import { randomUUID } from 'node:crypto';
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/**
 * A UUIDv7 (RFC 9562): as unguessable as any other id, but ordered by time, so rows appended now land at the right-hand
 * end of their indexes instead of on a random page (the consent ledger and the audit trail, with millions of rows).
 * Its first 48 bits are the creation time in milliseconds: use it only where that time is stored beside it anyway.
 *
 * Made from Node's own randomUUID (a v4, drawn from a pooled entropy cache): the first 48 bits become the time and the
 * version digit 7; the 74 random bits v7 keeps stay random, the variant stays RFC 9562's. The uuid package's v7 drew
 * fresh random bytes from the system for every id, a measurable share of a consent write.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const v4 = randomUUID();
  const ms = now.toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${v4.slice(15)}`;
}
