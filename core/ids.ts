// Custodian ids are UUIDs. One pattern, so every edge refuses a malformed id the same way.
import { v7 as uuidV7 } from 'uuid';
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/**
 * A UUIDv7: as unguessable as any other id, but ordered by time, so rows appended now land at the right-hand end of
 * their indexes instead of on a random page (the consent ledger and the audit trail, with millions of rows). Its first
 * 48 bits are the creation time in milliseconds: use it only where that time is stored beside it anyway.
 */
export function timeOrderedId(): string {
  return uuidV7();
}
