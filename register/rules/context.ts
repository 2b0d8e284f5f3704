// What every section's rules share: the problem collectors, the declared keys each reference must resolve
// against, and which of those keys something uses (for the "declared but unused" warnings at the end).
import type { Severity, YamlPath } from '../problems.ts';
import { didYouMean } from '../problems.ts';
import type { RegisterData } from '../schema.ts';
import { BUILT_IN_EVENTS } from '../vocabulary.ts';

export interface RuleProblem {
  readonly severity: Severity;
  readonly path: YamlPath;
  readonly message: string;
  /** Point at the key itself rather than its value (for "unused" warnings). */
  readonly at?: 'key' | 'value';
}

export interface RuleContext {
  readonly r: RegisterData;
  readonly out: RuleProblem[];
  readonly error: (path: YamlPath, message: string) => void;
  readonly warn: (path: YamlPath, message: string, at?: 'key' | 'value') => void;
  /** True when `key` is in `pool` (and marks it used); otherwise reports it as undeclared. */
  readonly ref: (path: YamlPath, key: string, pool: string[], what: string, usedSet?: Set<string>) => boolean;
  readonly keys: {
    readonly subjects: string[];
    readonly data: string[];
    readonly purposes: string[];
    readonly recipients: string[];
    readonly sources: string[];
    /** Built-in events first, then the declared ones. */
    readonly events: string[];
  };
  readonly used: {
    readonly subjects: Set<string>;
    readonly data: Set<string>;
    readonly recipients: Set<string>;
    readonly sources: Set<string>;
    readonly events: Set<string>;
  };
}

export function createContext(r: RegisterData): RuleContext {
  const out: RuleProblem[] = [];
  const error = (path: YamlPath, message: string) => out.push({ severity: 'error', path, message });
  const warn = (path: YamlPath, message: string, at: 'key' | 'value' = 'value') => out.push({ severity: 'warning', path, message, at });

  const keys = {
    subjects: Object.keys(r.subjects),
    data: Object.keys(r.data),
    purposes: Object.keys(r.purposes),
    recipients: Object.keys(r.recipients),
    sources: Object.keys(r.sources),
    events: [...Object.keys(BUILT_IN_EVENTS), ...Object.keys(r.events)],
  };

  const used = { subjects: new Set<string>(), data: new Set<string>(), recipients: new Set<string>(), sources: new Set<string>(), events: new Set<string>() };

  const ref = (path: YamlPath, key: string, pool: string[], what: string, usedSet?: Set<string>) => {
    if (typeof key !== 'string') return false; // malformed: the schema has already reported it
    if (pool.includes(key)) {
      usedSet?.add(key);
      return true;
    }
    error(path, `${what} "${key}" is not declared${didYouMean(key, pool)}`);
    return false;
  };

  return { r, out, error, warn, ref, keys, used };
}
