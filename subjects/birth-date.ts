// A person's date of birth, as far as it can be read: what "until-age" retention counts from.
import type { Register } from '../register/load-register.ts';
import type { RecordRow } from './subjects-store.ts';

/**
 * The latest value of a field the register marks `birth-date`, when it can be read (`valueFor` says: a sealed one
 * only when the values are revealed); null when none can.
 */
export function birthDateOf(register: Register, records: readonly RecordRow[], valueFor: (r: RecordRow) => string | null): Date | null {
  const marked = records
    .filter((r) => r.state !== 'erased' && r.collection_point !== null && register.collection[r.collection_point]?.fields[r.field]?.['birth-date'])
    .sort((a, b) => new Date(b.collected_at).getTime() - new Date(a.collected_at).getTime());
  for (const r of marked) {
    const value = valueFor(r);
    if (value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return new Date(`${value}T00:00:00Z`);
  }
  return null;
}
