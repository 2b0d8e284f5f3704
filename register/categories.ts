// Questions about data categories that every write path asks the register, answered in one place.
import type { RegisterData } from './schema.ts';

/** Whether values of a category are stored sealed: special categories (health...) and those marked `encrypt: true`. */
export function isSealedCategory(register: Pick<RegisterData, 'data'>, category: string): boolean {
  const c = Object.hasOwn(register.data, category) ? register.data[category] : undefined;
  return Boolean(c && (c.special || c.encrypt));
}
