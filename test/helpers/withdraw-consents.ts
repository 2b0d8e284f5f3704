import type { Transaction } from 'kysely';
import { heldConsentsOf, recordConsentEvents } from '../../consent/consent-store.ts';
import type { Tables } from '../../db/tables.ts';
import type { TestApp } from './test-app.ts';

/**
 * What fulfilling a withdraw-consent request records for a person (requests/fulfil-rights.ts), without the request:
 * a withdrawal of every consent they hold, given or awaiting confirmation. Returns what was withdrawn.
 */
export async function withdrawHeldConsents(t: TestApp, trx: Transaction<Tables>, subjectId: string) {
  const held = await heldConsentsOf(trx, [subjectId]);
  await recordConsentEvents(
    trx,
    t.ctx.auditor,
    held.map((h) => ({ ...h, state: 'withdrawn' as const, method: 'privacy-centre' as const, actor: 'staff:test' })),
    t.register.fingerprint,
    t.clock.now(),
  );
  return held;
}
