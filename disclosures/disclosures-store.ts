// The only SQL for the disclosure ledger: which records went to which recipient, for which purpose, when.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { DisclosureTables } from './tables.ts';

export type DisclosureRow = Selectable<DisclosureTables['disclosure']>;

export async function insertDisclosure(trx: Transaction<Tables>, auditor: Auditor, row: DisclosureRow): Promise<void> {
  await trx.insertInto('disclosure').values(row).execute();
  await auditor.append(trx, {
    actor: row.recorded_by,
    action: 'disclosure',
    subjectId: row.subject_id,
    recordIds: row.record_ids,
    purpose: row.purpose,
    detail: { disclosure: row.id, recipient: row.recipient, categories: row.categories.length },
  });
}

/** Everything disclosed about these people (a person and those merged into them), oldest first. */
export async function disclosuresOf(ex: Kysely<Tables>, subjectIds: readonly string[]): Promise<DisclosureRow[]> {
  if (subjectIds.length === 0) return [];
  return ex
    .selectFrom('disclosure')
    .selectAll()
    .where('subject_id', 'in', [...subjectIds])
    .orderBy('disclosed_at')
    .orderBy('id')
    .execute();
}

/** The records a disclosure may name: the person's, with what the register check needs. */
export async function disclosableRecords(
  trx: Transaction<Tables>,
  subjectId: string,
): Promise<{ id: string; category: string; purposes: string[]; state: 'active' | 'restricted' | 'erased' }[]> {
  return trx.selectFrom('record').select(['id', 'category', 'purposes', 'state']).where('subject_id', '=', subjectId).forShare().execute();
}
