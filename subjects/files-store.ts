// The only SQL for record_file: the files of file fields (a CV, a treatment photo), sealed under the person's data
// key. The record holds the file's name as its (sealed) value; its deletion with the record's value is in
// subjects-store.ts (eraseRecords, recordSubjectShred), where those changes are audited.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';

type Executor = Kysely<Tables>;

/** Column arrays of the files of a collection batch; `content` is the hex of the sealed bytes. */
export interface FileColumns {
  readonly recordId: string[];
  readonly mediaType: string[];
  readonly size: number[];
  readonly content: string[];
}

export function emptyFileColumns(): FileColumns {
  return { recordId: [], mediaType: [], size: [], content: [] };
}

/** The collection batch's files, a data-modifying CTE of its one statement (subjects/collect/batch-store.ts). */
export function insertRecordFilesSql(files: FileColumns): RawBuilder<unknown> {
  return sql`
    INSERT INTO record_file (record_id, media_type, size_bytes, content)
    SELECT u.record_id, u.media_type, u.size_bytes, decode(u.content, 'hex')
    FROM unnest(${files.recordId}::uuid[], ${files.mediaType}::text[], ${files.size}::int[], ${files.content}::text[])
         AS u(record_id, media_type, size_bytes, content)`;
}

/** What staff and answers may show of a file without opening it: its kind and size, by record. */
export async function fileFacts(ex: Executor, recordIds: readonly string[]): Promise<Map<string, { mediaType: string; size: number }>> {
  if (recordIds.length === 0) return new Map();
  const rows = await ex
    .selectFrom('record_file')
    .select(['record_id', 'media_type', 'size_bytes'])
    .where('record_id', 'in', [...recordIds])
    .execute();
  return new Map(rows.map((r) => [r.record_id, { mediaType: r.media_type, size: Number(r.size_bytes) }]));
}

/**
 * One file, still sealed, with the record's sealed value (its name), and the read in the audit trail like any read
 * of sealed values. Undefined when the person has no such live file.
 */
export async function readSealedFile(
  ex: Executor,
  auditor: Auditor,
  read: { subjectId: string; recordId: string; actor: string },
): Promise<{ name: Uint8Array; content: Uint8Array; mediaType: string; size: number } | undefined> {
  const row = await ex
    .selectFrom('record_file')
    .innerJoin('record', 'record.id', 'record_file.record_id')
    .select(['record.value_sealed', 'record_file.content', 'record_file.media_type', 'record_file.size_bytes'])
    .where('record.id', '=', read.recordId)
    .where('record.subject_id', '=', read.subjectId)
    .where('record.state', '!=', 'erased')
    .where('record.value_sealed', 'is not', null)
    .executeTakeFirst();
  if (!row) return undefined;
  await auditor.append(ex, {
    actor: read.actor,
    action: 'record.read-sealed',
    subjectId: read.subjectId,
    recordIds: [read.recordId],
    detail: { count: 1, file: true },
  });
  return { name: row.value_sealed!, content: row.content, mediaType: row.media_type, size: Number(row.size_bytes) };
}

/** The sealed files of these records, for a merge or its undoing to re-seal under the other person's key. */
export async function sealedFilesOf(trx: Transaction<Tables>, recordIds: readonly string[]): Promise<{ id: string; sealed: Uint8Array }[]> {
  if (recordIds.length === 0) return [];
  const rows = await trx
    .selectFrom('record_file')
    .select(['record_id', 'content'])
    .where('record_id', 'in', [...recordIds])
    .execute();
  return rows.map((r) => ({ id: r.record_id, sealed: r.content }));
}

/** Files re-sealed by a merge or its undoing (called only by subjects/merge-subjects.ts, whose move is audited). */
export async function storeResealedFiles(trx: Transaction<Tables>, files: readonly { id: string; sealed: Uint8Array }[]): Promise<void> {
  for (const f of files) await trx.updateTable('record_file').set({ content: f.sealed }).where('record_id', '=', f.id).execute();
}
