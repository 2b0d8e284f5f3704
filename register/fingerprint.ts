import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal registers give equal text whatever the YAML order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function fingerprintOf(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}
