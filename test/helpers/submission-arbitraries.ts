// fast-check arbitraries for what a collection point accepts, built from the register's field declarations alone:
// valid values per field type, valid whole submissions (with the consent boxes a value needs), and values that
// break exactly one rule. The fuzzer and the canary tests share them, so "valid" means the same thing everywhere.
import fc from 'fast-check';
import type { Register } from '../../register/load-register.ts';
import type { Field } from '../../register/schema.ts';

export type FormValue = string | number | boolean;
/** A submission by declared (dotted) field name. */
export type Submission = Record<string, FormValue>;

type Point = Register['collection'][string];

/** Ofcom's drama ranges: valid UK numbers that belong to nobody. */
export const DRAMA_PHONE_PREFIXES = ['+44 20 7946 0', '+44 113 496 0', '+44 121 496 0'] as const;
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Text a person could type: printable, not blank, within `limit` characters once normalised. */
function typedText(limit: number, lines: boolean): fc.Arbitrary<string> {
  const ascii = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ,.'()-]{0,40}$/);
  const unicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 });
  const line = fc.oneof(ascii, unicode);
  const text = lines ? fc.array(line, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('\n')) : line;
  return text.filter((s) => s.trim() !== '' && !CONTROL.test(s) && s.normalize('NFC').length <= limit);
}

export const emailArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,15}$/),
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}$/),
    fc.constantFrom('example', 'test', 'example.org'),
    fc.boolean(),
  )
  .map(([local, host, tld, shout]) => {
    const email = `${local}@${host}.${tld}`;
    return shout ? email.toUpperCase() : email;
  });

export const phoneArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...DRAMA_PHONE_PREFIXES), fc.integer({ min: 0, max: 999 }), fc.boolean())
  .map(([prefix, n, spaced]) => {
    const phone = `${prefix}${String(n).padStart(3, '0')}`;
    return spaced ? phone : phone.replaceAll(' ', '');
  });

const dateArb = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

function identifierText(kind: NonNullable<Field['identifier']>, limit: number): fc.Arbitrary<string> {
  switch (kind) {
    case 'email':
      return emailArb;
    case 'phone':
      return phoneArb;
    case 'gdc-number':
      return fc.stringMatching(/^\d{3,7}$/);
    case 'visitor-id':
      return fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/);
    default:
      return fc.stringMatching(/^[A-Za-z0-9]{1,20}$/).map((s) => s.slice(0, limit));
  }
}

/** A value the field accepts; undefined for file fields, which this endpoint never accepts. */
export function validValue(field: Field): fc.Arbitrary<FormValue> | undefined {
  const limit = field.max ?? 200;
  if (field.identifier && (field.type === 'text' || field.type === 'long-text')) return identifierText(field.identifier, limit);
  switch (field.type) {
    case 'text':
      return typedText(limit, false);
    case 'long-text':
      return typedText(limit, true);
    case 'email':
      return emailArb;
    case 'phone':
      return phoneArb;
    case 'date':
      return dateArb;
    case 'number':
      return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(1e308, -0, '42', '-3.5', '1e308'));
    case 'boolean':
      return fc.constantFrom<FormValue>(true, false, 'yes', 'no', 'on', 'off', 'true', 'false', '1', '0', 1, 0, 'YES');
    case 'choice':
      return fc.constantFrom(...(field.choices ?? []));
    case 'postcode':
      return fc.stringMatching(/^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/);
    case 'url':
      return fc.stringMatching(/^[a-z0-9/-]{0,40}$/).map((path) => `https://example.org/${path}`);
    case 'file':
      return undefined;
  }
}

/** A string the field refuses whatever its type: too long, or with a control character. */
export function alwaysInvalidText(field: Field): fc.Arbitrary<string> {
  const limit = field.max ?? 10_000; // above every default maximum
  return fc.oneof(
    fc.integer({ min: 1, max: 50 }).map((extra) => 'x'.repeat(limit + extra)),
    fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u000b'), fc.string({ maxLength: 10 }))
      .map(([a, c, b]) => `${a}${c}${b}`),
  );
}

/** Right-typed text that breaks the field's rule (impossible dates, emails without @, unknown choices…). */
export function ruleBreakingValue(field: Field): fc.Arbitrary<string> {
  const specific = (() => {
    if (field.identifier === 'email' || field.type === 'email') {
      return fc.oneof(
        fc.constantFrom('no-at-sign.example', 'a@b', '@example.org', 'a b@example.org', 'a@@example.org', 'a@example.'),
        fc.stringMatching(/^[a-z0-9.]{1,30}$/),
      );
    }
    if (field.identifier === 'phone' || field.type === 'phone')
      return fc.constantFrom('abc', '12', '+44 20 7946', '+999 123 456', '0000', '+44 20 7946 0000 0000 1');
    if (field.identifier === 'gdc-number') return fc.constantFrom('12', '12345678', 'ABC123', '1-2-3-4');
    if (field.identifier === 'visitor-id') return fc.constantFrom('short', 'has spaces in it here!', '!'.repeat(20));
    if (field.identifier) return fc.constantFrom('!!!', 'a#b', '€100', '<ref>');
    switch (field.type) {
      case 'date':
        return fc.oneof(
          fc.constantFrom(
            '2026-02-30',
            '2025-02-29',
            '2026-04-31',
            '2026-13-01',
            '2026-00-10',
            '2026-1-5',
            '26-01-01',
            '2026/01/01',
            '2026-01-01T00:00:00Z',
            '1 Jan 2026',
          ),
          fc
            .tuple(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 13, max: 99 }), fc.integer({ min: 1, max: 28 }))
            .map(([y, m, d]) => `${y}-${m}-${String(d).padStart(2, '0')}`),
          fc
            .tuple(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 32, max: 99 }))
            .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${d}`),
        );
      case 'number':
        return fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', 'abc', '1,5', 'one', '   ');
      case 'boolean':
        return fc.constantFrom('maybe', '2', 'yess', 'null', 'undefined', 'tick', '-1');
      case 'choice':
        return fc
          .oneof(
            fc.constantFrom(...(field.choices ?? []).flatMap((c) => [`${c} `, c.toUpperCase() === c ? c.toLowerCase() : c.toUpperCase()])),
            fc.string({ minLength: 1, maxLength: 20 }),
          )
          .filter((s) => !(field.choices ?? []).includes(s.normalize('NFC')));
      case 'postcode':
        return fc.constantFrom('!!', 'W5 4TJ!', 'AB', 'ABCDEFGHIJK', 'W5_4TJ', '€1 2AB');
      case 'url':
        return fc.constantFrom('ftp://example.org/', 'example.org', 'javascript:alert(1)', 'http//x', 'mailto:a@b.c', '//example.org');
      case 'file':
        return fc.constantFrom('cv.pdf', 'data:application/pdf;base64,AAAA');
      default:
        return fc.constantFrom(' ', '\t \t', '\n');
    }
  })();
  return fc.oneof(specific, alwaysInvalidText(field));
}

/** The point's purposes a value of `field` can serve once `ticked` consents are given. */
function servingPurposes(register: Register, point: Point, field: Field, ticked: ReadonlySet<string>): string[] {
  return point.purposes.filter((p) => {
    const purpose = register.purposes[p]!;
    return purpose.data.includes(field.data) && (purpose.basis !== 'consent' || ticked.has(p));
  });
}

/** Consent fields of the point, by the purpose they consent to. */
function consentBoxes(point: Point): Map<string, string> {
  const boxes = new Map<string, string>();
  for (const [name, f] of Object.entries(point.fields)) if (f.consent && !boxes.has(f.consent)) boxes.set(f.consent, name);
  return boxes;
}

/** Why a point cannot take a valid submission through the API (a required file, or a value no purpose can keep); null if it can. */
export function unsubmittableReason(register: Register, key: string): string | null {
  const point = register.collection[key]!;
  const all = new Set(consentBoxes(point).keys());
  for (const [name, f] of Object.entries(point.fields)) {
    if (!f.required || f.consent) continue;
    if (f.type === 'file') return `required field ${name} is a file upload`;
    if (servingPurposes(register, point, f, all).length === 0) return `required field ${name} serves no purpose of the point`;
  }
  return null;
}

/**
 * Valid submissions of a point: every required field, each optional one sometimes, consent boxes at random but
 * ticked where a value is only kept with that consent. Undefined when the point cannot be submitted validly.
 */
export function validSubmission(register: Register, key: string, options: { allOptional?: boolean } = {}): fc.Arbitrary<Submission> | undefined {
  if (unsubmittableReason(register, key)) return undefined;
  const point = register.collection[key]!;
  const boxes = consentBoxes(point);
  const allConsents = new Set(boxes.keys());
  const parts: Record<string, fc.Arbitrary<FormValue | undefined>> = {};
  // One field of each one-of group is always given (the first), so the group is satisfied.
  const firstOfGroups = new Set(point['one-of'].map((group) => group[0]!));
  for (const [name, f] of Object.entries(point.fields)) {
    const arb = validValue(f);
    if (!arb) continue;
    if (!f.consent && servingPurposes(register, point, f, allConsents).length === 0) continue;
    parts[name] = f.required || firstOfGroups.has(name) || options.allOptional ? arb : fc.option(arb, { nil: undefined, freq: 3 });
  }
  return fc.record(parts).map((drawn) => {
    const sub: Submission = {};
    for (const [name, value] of Object.entries(drawn)) if (value !== undefined) sub[name] = value;
    const ticked = new Set(
      Object.entries(sub)
        .filter(([n, v]) => point.fields[n]!.consent && isTicked(v))
        .map(([n]) => point.fields[n]!.consent!),
    );
    for (const [name, value] of Object.entries(sub)) {
      const f = point.fields[name]!;
      if (f.consent || value === undefined || servingPurposes(register, point, f, ticked).length > 0) continue;
      const purpose = point.purposes.find((p) => register.purposes[p]!.basis === 'consent' && register.purposes[p]!.data.includes(f.data) && boxes.has(p))!;
      sub[boxes.get(purpose)!] = true;
      ticked.add(purpose);
    }
    return sub;
  });
}

function isTicked(v: FormValue): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['yes', 'true', 'on', '1'].includes(v.toLowerCase()));
}

/** How many records a valid submission makes: one per data value (consent boxes go to the consent ledger). */
export function expectedRecords(register: Register, key: string, sub: Submission): number {
  const point = register.collection[key]!;
  return Object.keys(sub).filter((name) => !point.fields[name]!.consent).length;
}

/**
 * `{ "patient.name": x }` as `{ patient: { name: x } }`; null when two keys would land on the same place (then send
 * the dotted form). Keys are defined, never assigned, so `__proto__` stays a plain key.
 */
export function nested(sub: Record<string, unknown>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  const made = new WeakSet<object>([out]); // only objects made here are filled in; values are never mutated
  const get = (node: Record<string, unknown>, k: string) => (Object.hasOwn(node, k) ? node[k] : undefined);
  const put = (node: Record<string, unknown>, k: string, v: unknown) =>
    Object.defineProperty(node, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [name, value] of Object.entries(sub)) {
    const parts = name.split('.').some((p) => p === '') ? [name] : name.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = get(node, part);
      if (next === undefined) {
        const child = {};
        made.add(child);
        put(node, part, child);
      } else if (typeof next !== 'object' || next === null || !made.has(next)) return null;
      node = get(node, part) as Record<string, unknown>;
    }
    if (get(node, parts.at(-1)!) !== undefined) return null;
    put(node, parts.at(-1)!, value);
  }
  return out;
}

/** A submission as a form post body. */
export function formEncoded(pairs: Iterable<readonly [string, FormValue]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of pairs) params.append(k, String(v));
  return params.toString();
}
