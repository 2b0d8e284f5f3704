// Merging two subjects found to be the same person: records, identifiers and the data key's sealed values move
// to the subject that stays; the other is kept as a pointer so old references (audit, consents) still resolve.
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { openValue, sealValue } from '../crypto/seal.ts';
import { lockSubjects, mergeSubjectRows, sealedValuesToMove } from './subjects-store.ts';

export type MergeDeps = Pick<AppContext, 'db' | 'clock' | 'subjectKeys' | 'auditor'>;

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
    const sealed = await sealedValuesToMove(trx, input.from);
    const resealed: { id: string; sealed: Uint8Array }[] = [];
    if (sealed.length > 0) {
      const oldKey = await deps.subjectKeys.get(trx, input.from);
      if (!oldKey) throw new CustodianError('conflict', 'the record being merged was erased (its key is destroyed); its sealed values cannot move');
      const newKey = await deps.subjectKeys.getOrCreate(trx, input.into, deps.clock.now());
      for (const r of sealed) resealed.push({ id: r.id, sealed: sealValue(newKey, openValue(oldKey, r.sealed, r.id), r.id) });
    }
    const moved = await mergeSubjectRows(trx, deps.auditor, { from: input.from, into: input.into, resealed, actor: input.actor });
    return { movedRecords: moved.length };
  });
}
