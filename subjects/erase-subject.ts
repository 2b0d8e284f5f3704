// Crypto-shredding one person: their data key is destroyed (crypto/), so every sealed value of theirs, wherever a
// copy of the ciphertext went, can no longer be opened. Their sealed records are marked erased and the shred is
// audited, in one transaction.
//
// Backups: a database backup taken before the shred still holds the person's data key, wrapped by the master key
// of that time. The erasure reaches those backups once that master key is retired (`custodian keys rotate
// --retire-old`): no key able to unwrap them exists any more. That also closes every other sealed value in those
// older backups, so match the rotation to the backup retention (erase-subject.test.ts shows both halves).
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { lockSubject, markSealedRecordsErased } from './subjects-store.ts';

export interface ShredResult {
  /** False when the key was already destroyed: nothing changed and nothing was audited. */
  readonly shredded: boolean;
  /** Sealed records now unreadable. */
  readonly records: number;
}

export type EraseDeps = Pick<AppContext, 'db' | 'clock' | 'subjectKeys' | 'auditor'>;

export async function shredSubject(deps: EraseDeps, input: { subjectId: string; actor: string }): Promise<ShredResult> {
  if (!isUuid(input.subjectId)) throw new CustodianError('bad_request', 'a subject id must be a uuid');
  const subjectId = input.subjectId.toLowerCase();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const subject = await lockSubject(trx, subjectId);
    if (!subject) throw new CustodianError('not_found', 'no such subject');
    if (subject.merged_into) throw new CustodianError('conflict', `this record was merged into ${subject.merged_into}: shred that one`);
    if (!(await deps.subjectKeys.shred(trx, subjectId, deps.clock.now()))) return { shredded: false, records: 0 };
    return { shredded: true, records: await markSealedRecordsErased(trx, deps.auditor, subjectId, input.actor) };
  });
}
