// Merging two subjects found to be the same person: records, identifiers and the data key's sealed values move
// to the subject that stays; the other is kept as a pointer so old references (audit, consents) still resolve.
import { appendAuditEvents } from '../audit/append-audit-event.ts';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { openValue, sealValue } from '../crypto/seal.ts';
import { getOrCreateSubjectKey, getSubjectKey } from '../crypto/subject-keys.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { lockSubjects, mergeSubjectRows } from './subjects-store.ts';

export interface MergeDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  readonly keyring: Keyring;
  readonly checkpointKeys: readonly Uint8Array[];
}

/** Moves everything `from` holds into `into`. Both must exist, be of the same kind and not be merged already. */
export async function mergeSubjects(deps: MergeDeps, input: { from: string; into: string; actor: string }): Promise<{ movedRecords: number }> {
  if (input.from === input.into) throw new CustodianError('conflict', 'a person cannot be merged into themselves');
  return deps.db.kysely.transaction().execute(async (trx) => {
    const rows = await lockSubjects(trx, [input.from, input.into]);
    const from = rows.find((r) => r.id === input.from);
    const into = rows.find((r) => r.id === input.into);
    if (!from || !into) throw new CustodianError('not_found', 'both people must exist to be merged');
    if (from.merged_into || into.merged_into) throw new CustodianError('conflict', 'one of them was already merged into someone else');
    if (from.kind !== into.kind) throw new CustodianError('conflict', `a ${from.kind} cannot be merged into a ${into.kind}`);

    // Sealed values are bound to their subject's key: re-seal them under the key of the subject that stays.
    const sealed = await trx.selectFrom('record').select(['id', 'value_sealed']).where('subject_id', '=', input.from).where('value_sealed', 'is not', null).execute();
    if (sealed.length > 0) {
      const oldKey = await getSubjectKey(trx, deps.keyring, input.from);
      if (!oldKey) throw new CustodianError('conflict', 'the record being merged was erased (its key is destroyed); its sealed values cannot move');
      const newKey = await getOrCreateSubjectKey(trx, deps.keyring, input.into, deps.clock);
      for (const r of sealed) {
        const resealed = sealValue(newKey, openValue(oldKey, r.value_sealed!, r.id), r.id);
        await trx.updateTable('record').set({ value_sealed: resealed }).where('id', '=', r.id).execute();
      }
    }
    const moved = await mergeSubjectRows(trx, input.from, input.into);
    const ctx = { clock: deps.clock, fingerprint: deps.register.fingerprint, checkpointKey: deps.checkpointKeys };
    await appendAuditEvents(trx, [
      { actor: input.actor, action: 'subject.merge', subjectId: input.into, recordIds: moved, detail: { mergedFrom: input.from } },
      { actor: input.actor, action: 'subject.merge', subjectId: input.from, recordIds: moved, detail: { mergedInto: input.into } },
    ], ctx);
    return { movedRecords: moved.length };
  });
}
