// When a new subject may be someone already known. Sharing a contact point proves nothing (a family's phone, a
// practice's email); sharing a strong identifier in its scope nearly does. Neither ever joins two people: it opens
// a "possibly the same person" item for staff, worded by its signals. Names and birth dates tell people apart; they
// are compared as held in clear (a sealed one counts as unknown).
import type { Register } from '../register/load-register.ts';
import { normaliseName } from './normalise-identifier.ts';

/** More holders than this, and a contact point is a shared line (a practice's switchboard): no signal at all. */
export const SHARED_LINE_LIMIT = 5;

export interface TraitsSeen {
  readonly names: ReadonlySet<string>;
  readonly birthDates: ReadonlySet<string>;
}

/**
 * The signals for an item between a new subject and a known one, or null when none is worth a person's time: they
 * share only contact points and their name or birth date is known to differ (siblings on a family phone,
 * colleagues on an office email: two people, as they already are).
 */
export function reviewSignals(
  shared: readonly { kind: string; strong: boolean }[],
  mine: { name: string | null; birthDate: string | null },
  theirs: TraitsSeen,
): string[] | null {
  if (shared.length === 0) return null;
  const compare = (value: string | null, seen: ReadonlySet<string>) => (value === null || seen.size === 0 ? 'unknown' : seen.has(value) ? 'same' : 'differs');
  const name = compare(mine.name, theirs.names);
  const birthDate = compare(mine.birthDate, theirs.birthDates);
  const strong = shared.some((s) => s.strong);
  if (!strong && (name === 'differs' || birthDate === 'differs')) return null;
  const signals = [...new Set(shared.map((s) => `shares:${s.kind}`))].sort();
  if (name !== 'unknown') signals.push(name === 'same' ? 'same-name' : 'name-differs');
  if (birthDate !== 'unknown') signals.push(birthDate === 'same' ? 'same-birth-date' : 'birth-date-differs');
  return signals;
}

type TraitField = { readonly point: string; readonly field: string; readonly trait: 'name' | 'birthDate' };
const traitFieldsOf = new WeakMap<Register, readonly TraitField[]>();

/** The register's full-name and birth-date fields, by collection point: where a known person's traits are read. */
export function traitFields(register: Register): readonly TraitField[] {
  let fields = traitFieldsOf.get(register);
  if (!fields) traitFieldsOf.set(register, (fields = listTraitFields(register)));
  return fields;
}

function listTraitFields(register: Register): TraitField[] {
  return Object.entries(register.collection).flatMap(([point, c]) =>
    Object.entries(c.fields).flatMap(([field, f]) => [
      ...(f['full-name'] ? [{ point, field, trait: 'name' as const }] : []),
      ...(f['birth-date'] ? [{ point, field, trait: 'birthDate' as const }] : []),
    ]),
  );
}

/** Folds the plain values read for known people into their traits. */
export function traitsOf(
  fields: readonly TraitField[],
  values: readonly { subjectId: string; point: string; field: string; value: string }[],
): Map<string, { names: Set<string>; birthDates: Set<string> }> {
  const traitOf = new Map(fields.map((f) => [`${f.point}\u0000${f.field}`, f.trait]));
  const out = new Map<string, { names: Set<string>; birthDates: Set<string> }>();
  for (const v of values) {
    const trait = traitOf.get(`${v.point}\u0000${v.field}`);
    if (!trait) continue;
    let t = out.get(v.subjectId);
    if (!t) out.set(v.subjectId, (t = { names: new Set(), birthDates: new Set() }));
    if (trait === 'name') {
      const n = normaliseName(v.value);
      if (n) t.names.add(n);
    } else t.birthDates.add(v.value);
  }
  return out;
}
