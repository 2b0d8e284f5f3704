// fast-check arbitraries for malformed HTTP input: junk JSON of any shape, broken JSON text, form garbage, wrong
// content types, empty and oversized bodies, and submissions of a collection point that break at least one of its
// rules. Every submission generated here is invalid by construction (see `mutation`), so a 2xx is always a bug.
import fc from 'fast-check';
import type { Register } from '../../register/load-register.ts';
import type { Field } from '../../register/schema.ts';
import { ruleBreakingValue, validSubmission } from './submission-arbitraries.ts';

/** A request body before encoding. `type: null` sends no content-type header. */
export type Body =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'form'; readonly pairs: readonly (readonly [string, string])[] }
  | { readonly kind: 'text'; readonly text: string | Uint8Array; readonly type: string | null }
  | { readonly kind: 'empty'; readonly type: string | null };

export const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON'] as const;
export const FORM_TYPE = 'application/x-www-form-urlencoded';
export const WRONG_TYPES = [
  'text/plain',
  'text/html',
  'application/xml',
  'application/octet-stream',
  'multipart/form-data; boundary=----x',
  'image/png',
  'application/vnd.api+json',
  'x/y',
  ';',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded; charset=utf-16le',
] as const;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const tricky = fc.constantFrom('.', '$', '\u0000', '"', '\\', '\u2028', '\u202e', '\ufeff', '%', '&', '=', '[', ']', '{', '}', '\n', ' ');
/** One unit of anything: any code point, a lone surrogate, or a character parsers care about. */
const anyChar = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: tricky },
);
export const anyString = (maxLength: number, minLength = 0): fc.Arbitrary<string> => fc.string({ unit: anyChar, minLength, maxLength });

/** Scalars of every JSON type, with the numbers and strings that trip parsers up. */
export const junkScalar: fc.Arbitrary<unknown> = fc.oneof(
  anyString(40),
  fc.constantFrom(
    1e308,
    -1e308,
    -0,
    0,
    5e-324,
    2 ** 53 + 2,
    'NaN',
    'Infinity',
    '-0',
    '1e308',
    '__proto__',
    'constructor',
    'null',
    'undefined',
    '<script>alert(1)</script>',
    "'; DROP TABLE record; --",
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

/** Any JSON value but an object: the body of a collection point must be an object. */
export const nonObjectJson: fc.Arbitrary<unknown> = fc.oneof(junkScalar, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }));

/** Assigns without invoking the `__proto__` setter, so the key is really sent. */
export function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function objectOf(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) put(out, k, v);
  return out;
}

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD, as a browser sends them). */
export function pct(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8'))
    out += /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** What a server decodes from `pct(text)`. */
export const decoded = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

export function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** JSON text that no JSON parser accepts, with a few that parse but carry prototype-pollution keys. */
export function brokenJsonText(objects: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    fc.tuple(objects, fc.nat()).map(([o, n]) => {
      const s = JSON.stringify(o);
      return s.slice(0, n % s.length);
    }),
    fc.tuple(objects, fc.constantFrom(',', '}', ']', ' x', '{}', '\u0000', ' null')).map(([o, tail]) => JSON.stringify(o) + tail),
    fc.constantFrom(
      "{'name': 'x'}",
      '{"name": NaN}',
      '{"name": "x",}',
      '{name: "x"}',
      '[1,2',
      'nul',
      '{"name": "a\u0001b"}',
      '{"name": 01}',
      '{"__proto__": {"polluted": true}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"zz": {"__proto__": {"polluted": true}}}',
      '\ufeff{"zz": 1}',
      '{"zz": "\\ud800"}',
      '{"zz":1}{"zz":2}',
      '"just a string"',
      '  ',
      '\n',
      '{"zz": 1e400}',
    ),
    anyString(200).filter((s) => !parsesAsJson(s)),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).filter((b) => !parsesAsJson(Buffer.from(b).toString('utf8'))),
  );
}

/** Huge strings under and over the body limits (256 KiB JSON, 64 KiB forms), or nesting tens of thousands of levels deep. */
export const hugeOrDeep: fc.Arbitrary<Body> = fc.oneof(
  fc.integer({ min: 270_000, max: 400_000 }).map((n): Body => ({ kind: 'text', text: JSON.stringify({ zz: 'x'.repeat(n) }), type: 'application/json' })),
  fc.integer({ min: 70_000, max: 100_000 }).map((n): Body => ({ kind: 'text', text: `zz=${'x'.repeat(n)}`, type: FORM_TYPE })),
  fc.integer({ min: 100_000, max: 250_000 }).map((n): Body => ({ kind: 'json', value: { zz: 'y'.repeat(n) } })),
  fc.integer({ min: 30_000, max: 60_000 }).map((n): Body => ({ kind: 'text', text: `zz=${'y'.repeat(n)}`, type: FORM_TYPE })),
  fc
    .tuple(fc.integer({ min: 1, max: 40_000 }), fc.constantFrom('zz', ''))
    .map(([d, k]): Body => ({ kind: 'text', text: `${`{"${k}":`.repeat(d)}1${'}'.repeat(d)}`, type: 'application/json' })),
  fc.integer({ min: 1, max: 100_000 }).map((d): Body => ({ kind: 'text', text: `{"zz":${'['.repeat(d)}${']'.repeat(d)}}`, type: 'application/json' })),
);

export const emptyBodies: fc.Arbitrary<Body> = fc.constantFrom<Body>(
  { kind: 'empty', type: 'application/json' },
  { kind: 'empty', type: null },
  { kind: 'empty', type: FORM_TYPE },
  { kind: 'text', text: '', type: FORM_TYPE },
  { kind: 'json', value: null },
  { kind: 'json', value: [] },
);

type Entries = (readonly [string, unknown])[];
type Mutation = (entries: Entries) => Entries;

function replaced(entries: Entries, name: string, ...values: unknown[]): Entries {
  return [...entries.filter(([k]) => k !== name), ...values.map((v) => [name, v] as const)];
}

/** A key that is no declared field and cannot be nested into one (no declared name starts with it plus a dot). */
export function undeclaredKey(register: Register, key: string, form: boolean): fc.Arbitrary<string> {
  const declared = Object.keys(register.collection[key]!.fields);
  const clashes = (k: string) => declared.some((d) => d === k || d.startsWith(`${k}.`));
  const special = fc.constantFrom(
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'prototype',
    '__defineGetter__',
    'isPrototypeOf',
    'Name',
    'EMAIL',
    'a.b',
    'a..b',
    '.',
    '..',
    '.name',
    'name.',
    'name ',
    ' name',
    'patient.name.first',
    'scan.area.x',
    '$where',
    'a[0]',
    'zz-fuzz',
    ...(form ? [] : ['__proto__', '']),
  );
  const dotted = fc.array(fc.stringMatching(/^[a-z0-9-]{0,8}$/), { minLength: 2, maxLength: 5 }).map((p) => p.join('.'));
  // A form cannot say `__proto__`: the edge validator copies the body into a plain object and drops it (reported).
  return fc.oneof(special, dotted, anyString(30)).filter((k) => !clashes(decoded(k)) && !(form && (decoded(k) === '__proto__' || k === '')));
}

/** A JSON value of the wrong type for the field (arrays and objects are wrong for every field). */
function wrongType(field: Field): fc.Arbitrary<unknown> {
  const structural = fc.oneof(
    fc.array(junkScalar, { maxLength: 3 }),
    fc.dictionary(fc.stringMatching(/^ZZ[a-z]{0,5}$/), junkScalar, { minKeys: 1, maxKeys: 3 }),
  );
  const numbers = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const scalar: fc.Arbitrary<unknown> | undefined = (() => {
    if (field.type === 'postcode') return undefined; // any number or `true` spells a valid postcode
    if (field.type === 'boolean') return numbers.filter((n) => n !== 0 && n !== 1);
    if (field.type === 'number' || field.type === 'phone') return fc.boolean();
    if (field.type === 'choice') return fc.oneof(numbers, fc.boolean()).filter((v) => !(field.choices ?? []).includes(String(v)));
    return fc.oneof(numbers, fc.boolean());
  })();
  return scalar ? fc.oneof(structural, scalar) : structural;
}

/** One change that makes any submission of the point invalid; applied to a valid one, it stays invalid. */
function mutation(register: Register, key: string, form: boolean): fc.Arbitrary<Mutation> {
  const fields = register.collection[key]!.fields;
  const names = Object.keys(fields);
  const required = names.filter((n) => fields[n]!.required);
  const leaf: fc.Arbitrary<unknown> = form
    ? anyString(50)
    : fc.oneof(
        junkScalar,
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
        fc.dictionary(fc.stringMatching(/^[A-Z]{1,6}$/), junkScalar, { minKeys: 1, maxKeys: 3 }),
      );
  const options: fc.Arbitrary<Mutation>[] = [
    fc.tuple(undeclaredKey(register, key, form), leaf).map(
      ([k, v]): Mutation =>
        (e) => [...e, [k, v]],
    ),
    fc.oneof(
      ...names.map((n) =>
        ruleBreakingValue(fields[n]!).map(
          (v): Mutation =>
            (e) =>
              replaced(e, n, v),
        ),
      ),
    ),
    form
      ? fc.tuple(fc.constantFrom(...names), anyString(20), anyString(20)).map(
          ([n, a, b]): Mutation =>
            (e) =>
              replaced(e, n, a, b),
        )
      : fc.oneof(
          ...names.map((n) =>
            wrongType(fields[n]!).map(
              (v): Mutation =>
                (e) =>
                  replaced(e, n, v),
            ),
          ),
        ),
  ];
  if (required.length > 0) {
    const absent = form ? fc.constantFrom('drop', '') : fc.constantFrom('drop', '', null);
    options.push(
      fc.tuple(fc.constantFrom(...required), absent).map(
        ([n, how]): Mutation =>
          (e) =>
            how === 'drop' ? e.filter(([k]) => k !== n) : replaced(e, n, how),
      ),
    );
  }
  return fc.oneof(...options);
}

/** Valid submissions with one to three mutations, as entries in field order (duplicates possible in forms). */
export function invalidSubmission(register: Register, key: string, form: boolean): fc.Arbitrary<Entries> {
  const base = validSubmission(register, key) ?? fc.constant({});
  return fc.tuple(base, fc.array(mutation(register, key, form), { minLength: 1, maxLength: 3 })).map(([sub, ms]) => {
    let entries: Entries = Object.entries(sub).map(([k, v]) => [k, form ? String(v) : v] as const);
    for (const m of ms) entries = m(entries);
    return entries;
  });
}

/** Objects of any shape whose keys are none of the point's fields (invalid wherever a field is required). */
export function anyShapeObject(register: Register, key: string): fc.Arbitrary<Record<string, unknown>> {
  return fc.array(fc.tuple(undeclaredKey(register, key, false), fc.jsonValue({ maxDepth: 4 })), { maxLength: 8 }).map(objectOf);
}

/** Form text that is garbage, but always carries one undeclared field first. */
export const garbageForm: fc.Arbitrary<Body> = fc
  .string({ unit: fc.oneof(anyChar, fc.constantFrom('&', '=', '%', '%ZZ', '%E0%A4%A', '+', 'name', 'email')), maxLength: 80 })
  .map((garbage): Body => ({ kind: 'text', text: `ZZ-FUZZ=1&${garbage}`, type: FORM_TYPE }));
