// Crypto-shredding one person: their data key is destroyed, so every sealed value of theirs, wherever a copy of
// the ciphertext went, can no longer be opened. Their sealed records are marked erased and the shred is audited,
// in one transaction.
//
// Backups: a database backup taken before the shred still holds the person's data key, wrapped by the master key
// of that time. The erasure reaches those backups once that master key is retired (`custodian keys rotate
// --retire-old`): no key able to unwrap them exists any more. That also closes every other sealed value in those
// older backups, so match the rotation to the backup retention (shred-subject.test.ts shows both halves).
import { appendAuditEvent } from '../audit/append-audit-event.ts';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { shredSubjectKey } from './subject-keys.ts';

export interface ShredResult {
  /** False when the key was already destroyed: nothing changed and nothing was audited. */
  readonly shredded: boolean;
  /** Sealed records now unreadable. */
  readonly records: number;
}

export async function shredSubject(
  db: Db,
  input: { subjectId: string; actor: string },
  ctx: { clock: Clock; fingerprint: string | null; checkpointKeys: readonly Uint8Array[] },
): Promise<ShredResult> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(input.subjectId)) throw new CustodianError('bad_request', 'a subject id must be a uuid');
  const subjectId = input.subjectId.toLowerCase();
  return db.kysely.transaction().execute(async (trx) => {
    const subject = await trx.selectFrom('subject').select(['id', 'merged_into']).where('id', '=', subjectId).forUpdate().executeTakeFirst();
    if (!subject) throw new CustodianError('not_found', 'no such subject');
    if (subject.merged_into) throw new CustodianError('conflict', `this record was merged into ${subject.merged_into}: shred that one`);
    if (!(await shredSubjectKey(trx, subjectId, ctx.clock))) return { shredded: false, records: 0 };
    const records = await trx
      .updateTable('record')
      .set({ state: 'erased' })
      .where('subject_id', '=', subjectId)
      .where('value_sealed', 'is not', null)
      .returning('id')
      .execute();
    await appendAuditEvent(
      trx,
      { actor: input.actor, action: 'subject.key-shred', subjectId, recordIds: records.map((r) => r.id), detail: { sealed: records.length } },
      { clock: ctx.clock, fingerprint: ctx.fingerprint, checkpointKey: ctx.checkpointKeys },
    );
    return { shredded: true, records: records.length };
  });
}
