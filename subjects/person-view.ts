// Everything held about one person, as staff see it: records grouped by purpose with basis, source, collected date
// and retention date. Sealed values are opened only when asked by a role allowed to, and each such read is in the
// audit trail (subjects-store.readSealedValues) in the same transaction as the read. The console words it.
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { openFile, openValue } from '../crypto/seal.ts';
import { keepUntil, type KeepUntil } from '../retention/keep-until.ts';
import { birthDateOf } from './birth-date.ts';
import { fileFacts, readSealedFile } from './files-store.ts';
import { getSubjectOverview, readSealedValues, type RecordRow } from './subjects-store.ts';

export type PersonViewDeps = Pick<AppContext, 'db' | 'register' | 'subjectKeys' | 'auditor'>;

interface RecordLine {
  readonly id: string;
  readonly field: string;
  readonly category: string;
  readonly special: boolean;
  /** The value, or null when sealed and not revealed, or erased. */
  readonly value: string | null;
  readonly sealed: boolean;
  /** A file field's file: its kind and size (its name is the value); downloaded through `openPersonFile`. */
  readonly file: { readonly mediaType: string; readonly size: number } | null;
  readonly state: string;
  readonly source: string;
  readonly channel: string;
  readonly collectedAt: Date;
  readonly receivedAt: Date | null;
  /** When this purpose's retention runs out for this record. */
  readonly keepUntil: KeepUntil;
}

interface PurposeGroup {
  readonly key: string;
  /** Null when the purpose is no longer in the register. */
  readonly inRegister: boolean;
  readonly basis: string;
  readonly condition: string | null;
  readonly records: RecordLine[];
}

export interface PersonView {
  readonly id: string;
  readonly kind: string;
  readonly createdAt: Date;
  readonly mergedInto: string | null;
  readonly identifiers: { kind: string; value: string }[];
  readonly purposes: PurposeGroup[];
  readonly sealedCount: number;
  readonly revealed: boolean;
  readonly keyShredded: boolean;
}

export async function personView(deps: PersonViewDeps, subjectId: string, options: { reveal: boolean; actor: string }): Promise<PersonView | null> {
  const { register } = deps;
  return deps.db.kysely.transaction().execute(async (trx) => {
    const overview = await getSubjectOverview(trx, subjectId);
    if (!overview) return null;
    const sealedCount = overview.records.filter((r) => r.sealed).length;
    const dek = sealedCount > 0 ? await deps.subjectKeys.get(trx, subjectId) : null;
    const keyShredded = sealedCount > 0 && dek === null;
    const opened = new Map<string, string>();
    if (options.reveal && dek) {
      for (const r of await readSealedValues(trx, deps.auditor, subjectId, options.actor)) opened.set(r.id, openValue(dek, r.sealed, r.id));
    }
    const valueFor = (r: RecordRow) => (r.state === 'erased' ? null : r.sealed ? (opened.get(r.id) ?? null) : r.value_text);
    const birthDate = birthDateOf(register, overview.records, valueFor);
    const files = await fileFacts(
      trx,
      overview.records.filter((r) => r.sealed).map((r) => r.id),
    );

    const groups = new Map<string, PurposeGroup>();
    for (const r of overview.records) {
      r.purposes.forEach((p, i) => {
        const purpose = Object.hasOwn(register.purposes, p) ? register.purposes[p] : undefined;
        let group = groups.get(p);
        if (!group) {
          group = {
            key: p,
            inRegister: purpose !== undefined,
            basis: r.bases[i] ?? purpose?.basis ?? 'unknown',
            condition: purpose?.condition ?? null,
            records: [],
          };
          groups.set(p, group);
        }
        group.records.push({
          id: r.id,
          field: r.field,
          category: r.category,
          special: Boolean(register.data[r.category]?.special),
          value: valueFor(r),
          sealed: r.sealed,
          file: files.get(r.id) ?? null,
          state: r.state,
          source: r.source,
          channel: r.channel,
          collectedAt: new Date(r.collected_at),
          receivedAt: r.received_at ? new Date(r.received_at) : null,
          keepUntil: keepUntil(register, p, {
            event: r.retention_event,
            startsAt: r.retention_starts_at,
            collectedAt: r.collected_at,
            receivedAt: r.received_at,
            birthDate,
          }),
        });
      });
    }
    return {
      id: overview.subject.id,
      kind: overview.subject.kind,
      createdAt: overview.subject.createdAt,
      mergedInto: overview.subject.mergedInto,
      identifiers: overview.identifiers,
      purposes: [...groups.values()],
      sealedCount,
      revealed: opened.size > 0,
      keyShredded,
    };
  });
}

/** One of the person's files, opened for a download by a role allowed to read sealed values; the read is audited. */
export async function openPersonFile(
  deps: PersonViewDeps,
  read: { subjectId: string; recordId: string; actor: string },
): Promise<{ name: string; mediaType: string; content: Buffer }> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const dek = await deps.subjectKeys.get(trx, read.subjectId);
    const file = dek ? await readSealedFile(trx, deps.auditor, read) : undefined;
    if (!dek || !file) throw new CustodianError('not_found', 'this person has no such file');
    return { name: openValue(dek, file.name, read.recordId), mediaType: file.mediaType, content: openFile(dek, file.content, read.recordId) };
  });
}
