// The trail vouches for the consent ledger (ledger-digest.ts): every receipt or row an audit event names must still
// hash to the digest the event carries, and every row must be named by an event. A consent edited, a refusal deleted
// to uncover an older consent, or a consent slipped in behind the trail are named by `custodian audit verify` and the
// console, as sentences.
import type { Db } from '../db/connect.ts';
import { reconcileLedger } from './consent-store.ts';

/** What is wrong with the consent ledger as the trail sees it; empty when it matches. */
export async function reconcileConsentLedger(db: Db): Promise<string[]> {
  const r = await reconcileLedger(db.kysely);
  const out: string[] = [];
  if (r.altered > 0) {
    out.push(
      `${r.altered} consent receipt${r.altered === 1 ? '' : 's'} or event${r.altered === 1 ? '' : 's'} no longer match${r.altered === 1 ? 'es' : ''} the digest ${r.altered === 1 ? 'its' : 'their'} audit event carries (the first: ${r.alteredExample}): ledger rows were changed or deleted behind the trail`,
    );
  }
  if (r.unvouched > 0) {
    out.push(
      `${r.unvouched} consent ledger row${r.unvouched === 1 ? ' has' : 's have'} no audit event naming ${r.unvouched === 1 ? 'it' : 'them'} (the first: ${r.unvouchedExample}): rows were added behind the trail`,
    );
  }
  return out;
}
