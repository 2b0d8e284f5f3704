// Merging two subjects staff found to be the same person: records and the data key's sealed values move to the
// subject that stays; the other is kept as a pointer so old references (audit, consents, identifiers) still
// resolve. A merge can be undone until someone confirms it: exactly the records it moved go back, re-sealed under
// their own person's key again. Confirmed, it stands.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { openFile, openValue, sealFile, sealValue } from '../crypto/seal.ts';
import type { Tables } from '../db/tables.ts';
import { sealedFilesOf, storeResealedFiles } from './files-store.ts';
import { decideReviewItem, lockReviewItem } from './identity-store.ts';
import {
  confirmMergeRow,
  lockMerge,
  lockSubjects,
  mergedSince,
  mergeSubjectRows,
  mergesOf,
  sealedValuesToMove,
  sealedValuesToReturn,
  unmergeSubjectRows,
  type MergeRow,
} from './subjects-store.ts';

export type MergeDeps = Pick<AppContext, 'db' | 'clock' | 'subjectKeys' | 'auditor'>;

/**
 * Moves everything `from` holds into `into`, in the caller's transaction. Both must exist, be of the same kind and
 * not be merged already. The merge is pending: it can be undone until confirmed.
 */
export async function mergeInTransaction(
  trx: Transaction<Tables>,
  deps: MergeDeps,
  input: { from: string; into: string; actor: string },
): Promise<{ mergeId: string; movedRecords: number }> {
  if (input.from === input.into) throw new CustodianError('conflict', 'a person cannot be merged into themselves');
  const rows = await lockSubjects(trx, [input.from, input.into]);
  const from = rows.find((r) => r.id === input.from);
  const into = rows.find((r) => r.id === input.into);
  if (!from || !into) throw new CustodianError('not_found', 'both people must exist to be merged');
  if (from.merged_into || into.merged_into) throw new CustodianError('conflict', 'one of them was already merged into someone else');
  if (from.kind !== into.kind) throw new CustodianError('conflict', `a ${from.kind} cannot be merged into a ${into.kind}`);

  // Sealed values are bound to their subject's key: re-seal them under the key of the subject that stays.
  const now = deps.clock.now();
  const resealed = await reseal(trx, deps, await sealedValuesToMove(trx, input.from), input.from, input.into, now);
  await resealFiles(trx, deps, resealed, input.from, input.into);
  const mergeId = randomUUID();
  const moved = await mergeSubjectRows(trx, deps.auditor, { id: mergeId, from: input.from, into: input.into, resealed, actor: input.actor, now });
  return { mergeId, movedRecords: moved.length };
}

export async function mergeSubjects(deps: MergeDeps, input: { from: string; into: string; actor: string }): Promise<{ mergeId: string; movedRecords: number }> {
  return deps.db.kysely.transaction().execute((trx) => mergeInTransaction(trx, deps, input));
}

/**
 * Undoes a pending merge: the records it moved that `into` still holds go back to `from`, which stands alone
 * again; a review item that led to it is decided "different people". Refused once confirmed, or while a later
 * merge holds `into` (undo that one first).
 */
export async function undoMerge(deps: MergeDeps, input: { mergeId: string; actor: string }): Promise<{ movedBack: number; merge: MergeRow }> {
  const mergeId = mergeIdOf(input.mergeId);
  return deps.db.kysely.transaction().execute(async (trx) => {
    const row = await pendingMerge(trx, mergeId, 'undone');
    await lockSubjects(trx, [row.from, row.into]);
    if (await mergedSince(trx, row.into)) throw new CustodianError('conflict', 'the person was merged again since: undo that merge first');
    const now = deps.clock.now();
    const resealed = await reseal(trx, deps, await sealedValuesToReturn(trx, row), row.into, row.from, now);
    await resealFiles(trx, deps, resealed, row.into, row.from);
    const back = await unmergeSubjectRows(trx, deps.auditor, { merge: row, resealed, actor: input.actor, now });
    const item = await lockReviewItem(trx, { mergeId: row.id });
    if (item) await decideReviewItem(trx, deps.auditor, { item, state: 'rejected', mergeId: row.id, actor: input.actor, now });
    return { movedBack: back.length, merge: row };
  });
}

/** Confirms a pending merge: it can no longer be undone. */
export async function confirmMerge(deps: MergeDeps, input: { mergeId: string; actor: string }): Promise<MergeRow> {
  const mergeId = mergeIdOf(input.mergeId);
  return deps.db.kysely.transaction().execute(async (trx) => {
    const row = await pendingMerge(trx, mergeId, 'confirmed');
    await confirmMergeRow(trx, deps.auditor, { merge: row, actor: input.actor, now: deps.clock.now() });
    return row;
  });
}

function mergeIdOf(mergeId: string): string {
  if (!isUuid(mergeId)) throw new CustodianError('bad_request', 'a merge id must be a uuid');
  return mergeId.toLowerCase();
}

/** The merge, locked for a decision; refused unless it is still pending. */
async function pendingMerge(trx: Transaction<Tables>, mergeId: string, to: 'undone' | 'confirmed'): Promise<MergeRow> {
  const row = await lockMerge(trx, mergeId);
  if (!row) throw new CustodianError('not_found', 'no such merge');
  if (row.state !== 'pending') throw new CustodianError('conflict', `this merge is ${row.state}: only a pending merge can be ${to}`);
  return row;
}

/** Sealed values re-sealed from one person's key to another's (made if they have none). */
async function reseal(
  trx: Transaction<Tables>,
  deps: MergeDeps,
  sealed: readonly { id: string; sealed: Uint8Array }[],
  owner: string,
  to: string,
  now: Date,
): Promise<{ id: string; sealed: Uint8Array }[]> {
  if (sealed.length === 0) return [];
  const oldKey = await deps.subjectKeys.get(trx, owner);
  if (!oldKey) throw new CustodianError('conflict', 'one of them was erased (the data key is destroyed): the sealed values cannot move');
  const newKey = await deps.subjectKeys.getOrCreate(trx, to, now);
  return sealed.map((r) => ({ id: r.id, sealed: sealValue(newKey, openValue(oldKey, r.sealed, r.id), r.id) }));
}

/** The merges that involve this person, newest first (pending ones can still be undone or confirmed). */
export function mergesAbout(deps: Pick<AppContext, 'db'>, subjectId: string): Promise<MergeRow[]> {
  return mergesOf(deps.db.kysely, subjectId);
}

/** The files of records whose values moved, re-sealed the same way (their keys exist by now: `reseal` made them). */
async function resealFiles(trx: Transaction<Tables>, deps: MergeDeps, moved: readonly { id: string }[], owner: string, to: string): Promise<void> {
  const files = await sealedFilesOf(
    trx,
    moved.map((r) => r.id),
  );
  if (files.length === 0) return;
  const oldKey = (await deps.subjectKeys.get(trx, owner))!;
  const newKey = (await deps.subjectKeys.get(trx, to))!;
  await storeResealedFiles(
    trx,
    files.map((f) => ({ id: f.id, sealed: sealFile(newKey, openFile(oldKey, f.sealed, f.id), f.id) })),
  );
}
