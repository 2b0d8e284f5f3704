// Crypto-shredding one person: their data key is destroyed (crypto/), so every sealed value of theirs, wherever a
// copy of the ciphertext went, can no longer be opened. Their sealed records are marked erased, their identifiers
// retired (nobody is found by them again: a new submission is a new person, and no answer says "erased"), and the
// shred is audited, in one transaction. A retention rule that still keeps a sealed record (a health record kept
// until 2040) refuses the shred, unless the caller overrides it with a reason, which goes into the audit trail.
//
// Backups: a database backup taken before the shred still holds the person's data key, wrapped by the master key
// of that time. The erasure reaches those backups once that master key is retired (`custodian keys rotate
// --retire-old`): no key able to unwrap them exists any more. That also closes every other sealed value in those
// older backups, so match the rotation to the backup retention (erase-subject.test.ts shows both halves).
// Mail about them (and anyone merged into them) loses its content in the same transaction, and what was not sent yet
// is not sent (mail/).
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { Register } from '../register/load-register.ts';
import { keepUntil } from '../retention/keep-until.ts';
import { birthDateOf } from './birth-date.ts';
import { liveRecordsOf, lockSubject, mergedFamilies, recordSubjectShred, type RecordRow } from './subjects-store.ts';

export interface ShredResult {
  /** False when the key was already destroyed: nothing changed and nothing was audited. */
  readonly shredded: boolean;
  /** Sealed records now unreadable. */
  readonly records: number;
}

export type EraseDeps = Pick<AppContext, 'db' | 'clock' | 'subjectKeys' | 'auditor' | 'register' | 'mailer'>;

interface KeptRecords {
  readonly count: number;
  /** The purposes that keep them, and the latest date one of them is kept to (null: not knowable yet). */
  readonly purposes: string[];
  readonly until: Date | null;
}

export async function shredSubject(deps: EraseDeps, input: { subjectId: string; actor: string; overrideRetention?: string }): Promise<ShredResult> {
  if (!isUuid(input.subjectId)) throw new CustodianError('bad_request', 'a subject id must be a uuid');
  const reason = input.overrideRetention?.trim();
  if (input.overrideRetention !== undefined && (!reason || reason.length > 500))
    throw new CustodianError('bad_request', 'give the reason for overriding retention (up to 500 characters)');
  const subjectId = input.subjectId.toLowerCase();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const subject = await lockSubject(trx, subjectId);
    if (!subject) throw new CustodianError('not_found', 'no such subject');
    if (subject.merged_into) throw new CustodianError('conflict', `this record was merged into ${subject.merged_into}: shred that one`);
    const now = deps.clock.now();
    const kept = keptSealedRecords(deps.register, await liveRecordsOf(trx, subjectId), now);
    if (kept.count > 0 && !reason) {
      const until = kept.until ? `until at least ${kept.until.toISOString().slice(0, 10)}` : 'until an event that has not happened yet';
      throw new CustodianError(
        'retention_applies',
        `${kept.count} sealed record${kept.count === 1 ? ' is' : 's are'} still kept by ${kept.purposes.join(', ')} (${until}); nothing was shredded. Shred anyway only with a reason: --override-retention "…"`,
        { kept: kept.count, purposes: kept.purposes, until: kept.until?.toISOString().slice(0, 10) ?? null },
      );
    }
    if (!(await deps.subjectKeys.shred(trx, subjectId, now))) return { shredded: false, records: 0 };
    const override = reason && kept.count > 0 ? { reason, records: kept.count } : undefined;
    const records = await recordSubjectShred(trx, deps.auditor, { subjectId, actor: input.actor, now, overrideRetention: override });
    for (const member of (await mergedFamilies(trx, [subjectId])).keys()) await deps.mailer.eraseMailOf(trx, member, input.actor);
    return { shredded: true, records };
  });
}

/**
 * The sealed records a retention rule still keeps at `now`: one of their purposes keeps them to a date still ahead,
 * or until an event not yet happened, or until an age from a birth date nobody can read (a sealed or missing one
 * may be later than it looks). Open-ended keeps (until withdrawn, until objection) keep nothing against an erasure.
 */
export function keptSealedRecords(register: Register, records: readonly RecordRow[], now: Date): KeptRecords {
  const birthDate = birthDateOf(register, records, (r) => (r.sealed ? null : r.value_text));
  const purposes = new Set<string>();
  let count = 0;
  let until: Date | null = null;
  let unknowable = false;
  for (const r of records.filter((x) => x.sealed)) {
    let kept = false;
    for (const p of r.purposes) {
      const k = keepUntil(register, p, {
        event: r.retention_event,
        startsAt: r.retention_starts_at,
        collectedAt: r.collected_at,
        receivedAt: r.received_at,
        birthDate,
      });
      const keeps = k.kind === 'pending' || (k.kind === 'date' && (k.lowerBound || k.date > now));
      if (!keeps) continue;
      kept = true;
      purposes.add(p);
      if (k.kind === 'pending') unknowable = true;
      else if (!until || k.date > until) until = k.date;
    }
    if (kept) count++;
  }
  return { count, purposes: [...purposes].sort(), until: unknowable ? null : until };
}
