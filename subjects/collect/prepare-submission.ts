// The request half of collection: a submission checked against its collection point, once, into everything the
// database half needs. Exactly the declared fields, with their types and required flags; JSON and form-encoded
// bodies alike (form strings are coerced here); identifier fields normalised once, with how far each names a person
// (register/identifiers.ts) and, for one unique only within its issuer, which issuer. What comes out is plain data:
// it crosses to the writer thread as it is.
import { CustodianError } from '../../core/errors.ts';
import { isUuid } from '../../core/ids.ts';
import { identifierRule, type IdentifierKind } from '../../register/identifiers.ts';
import type { Register } from '../../register/load-register.ts';
import type { CHANNELS, Field } from '../../register/schema.ts';
import { compactReference, defaultPhoneRegion, normaliseIdentifier, normaliseName } from '../normalise-identifier.ts';
import type { SubmittedIdentifier } from '../subjects-store.ts';

type Channel = (typeof CHANNELS)[number];

interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

type FieldValue = string | number | boolean;
type CleanValues = ReadonlyMap<string, FieldValue>;

const DEFAULT_MAX: Partial<Record<Field['type'], number>> = { text: 500, 'long-text': 10_000, postcode: 16, url: 2048, email: 254, phone: 40 };
const UK_POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$/i;

interface ConsentGiven {
  readonly purpose: string;
  readonly channel: string | null;
}

export interface CollectInput {
  readonly point: string;
  readonly body: unknown;
  /** Who submitted: `public:<point>` for the web, `staff:<user id>` when staff record a letter or call. */
  readonly actor: string;
  /** Staff-recorded submissions say how the data arrived and when. */
  readonly channel?: Channel;
  readonly receivedAt?: Date;
  /** Staff only: the person (Custodian id) this submission is about, chosen by them. */
  readonly subjectId?: string;
}

export interface CollectResult {
  readonly subjectId: string;
  readonly recordIds: string[];
  readonly createdSubject: boolean;
  /** "Possibly the same person" items this submission opened for staff. */
  readonly reviewItems: number;
}

/** What tells people apart when they share a contact point: compared, never used to find anyone. */
interface Traits {
  /** Normalised (case, accents, word order): "José  de la Cruz" and "DE LA CRUZ Jose" compare equal. */
  readonly name: string | null;
  /** YYYY-MM-DD. */
  readonly birthDate: string | null;
}

/** A submission that passed validation: everything the database step needs, nothing it must re-check. */
export interface PreparedSubmission {
  readonly point: string;
  readonly subjectKind: string;
  /** Values of data fields (consent checkboxes are not data: they go to the consent ledger). */
  readonly values: CleanValues;
  /** Consents the person gave by ticking the form's consent checkboxes. */
  readonly consents: readonly ConsentGiven[];
  readonly identifiers: readonly SubmittedIdentifier[];
  readonly traits: Traits;
  /** Staff vouch for what they record: their strong identifiers find the person and are verified. */
  readonly vouched: boolean;
  /** The person staff chose, if they did. */
  readonly attachTo: string | null;
  readonly actor: string;
  readonly channel: Channel;
  readonly receivedAt: Date | null;
}

/** Validates a submission against its collection point; throws `not_found`, or `invalid_fields` listing every problem. */
export function prepareSubmission(register: Register, input: CollectInput): PreparedSubmission {
  const point = Object.hasOwn(register.collection, input.point) ? register.collection[input.point] : undefined;
  if (!point) throw new CustodianError('not_found', `there is no collection point "${input.point.slice(0, 64)}" in the register`);
  const body = input.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) refuse([{ field: '(body)', problem: 'send the fields as a JSON object or a form' }]);

  const problems: FieldProblem[] = [];
  const values = new Map<string, FieldValue>();
  const consents: ConsentGiven[] = [];
  const identifiers: { field: string; kind: IdentifierKind; value: string }[] = [];
  const region = defaultPhoneRegion(register.controller);

  for (const [name, raw] of flatten(body as Record<string, unknown>)) {
    const field = Object.hasOwn(point.fields, name) ? point.fields[name] : undefined; // not `constructor`, `toString`…
    if (!field) {
      problems.push({ field: name, problem: 'is not a field of this form' });
      continue;
    }
    if (raw === undefined || raw === null || raw === '') continue;
    const result = coerce(field, raw, region);
    if ('problem' in result) {
      problems.push({ field: name, problem: result.problem });
      continue;
    }
    if (field.consent) {
      if (result.value === true) consents.push({ purpose: field.consent, channel: field.channel ?? null });
      continue;
    }
    values.set(name, result.value);
    if (!field.identifier) continue;
    // Email and phone fields were normalised as identifiers by their type already; other kinds are normalised here.
    const kind = field.identifier;
    const id = kind === field.type ? { ok: true as const, value: String(result.value) } : normaliseIdentifier(kind, String(result.value), region);
    if (id.ok) identifiers.push({ field: name, kind, value: id.value });
    else problems.push({ field: name, problem: id.problem });
  }
  for (const [name, field] of Object.entries(point.fields)) {
    if (field.required && !values.has(name) && !problems.some((p) => p.field === name)) problems.push({ field: name, problem: 'is required' });
  }
  const vouched = input.actor.startsWith('staff:');
  if (input.subjectId !== undefined && (!vouched || !isUuid(input.subjectId))) problems.push({ field: '(subject)', problem: 'is not a Custodian id' });
  if (problems.length > 0) refuse(problems);
  const named = (flag: 'full-name' | 'birth-date') => {
    const name = Object.keys(point.fields).find((n) => point.fields[n]![flag]);
    const value = name === undefined ? undefined : values.get(name);
    return value === undefined ? null : String(value);
  };
  const fullName = named('full-name');
  return {
    point: input.point,
    subjectKind: point.subject,
    values,
    consents,
    identifiers: identifiers.map((i) => {
      const rule = identifierRule(register, i.kind);
      const issuer = point.fields[i.field]!['issued-by'];
      const issuedBy = issuer === undefined ? undefined : values.get(issuer);
      const scope =
        rule.strength === 'contact' || rule.scope === 'register'
          ? '*'
          : issuedBy === undefined
            ? ''
            : `${issuer}=${issuerValue(point.fields[issuer!]!, issuedBy)}`;
      return { kind: i.kind, value: i.value, scope, strong: rule.strength === 'strong' };
    }),
    traits: { name: fullName === null ? null : normaliseName(fullName) || null, birthDate: named('birth-date') },
    vouched,
    attachTo: input.subjectId?.toLowerCase() ?? null,
    actor: input.actor,
    channel: input.channel ?? point.channel,
    receivedAt: input.receivedAt ?? null,
  };
}

/** Who issued an identifier, as comparable text: emails and phones as normalised; in a number, case and spacing carry no meaning. */
function issuerValue(field: Field, value: FieldValue): string {
  return field.type === 'email' || field.type === 'phone' ? String(value) : compactReference(String(value));
}

function refuse(problems: FieldProblem[]): never {
  throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems });
}

function coerce(field: Field, raw: unknown, region: string | undefined): { value: FieldValue } | { problem: string } {
  if (Array.isArray(raw) || (typeof raw === 'object' && raw !== null)) return { problem: 'must be a single value' };
  const text = typeof raw === 'string' ? raw.normalize('NFC') : String(raw);
  const max = field.max ?? DEFAULT_MAX[field.type];
  if (max !== undefined && text.length > max) return { problem: `is longer than ${max} characters` };
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text)) return { problem: 'contains control characters' };
  if (!text.isWellFormed()) return { problem: 'contains characters that are not valid text' };
  switch (field.type) {
    case 'number': {
      if (typeof raw === 'boolean' || text.trim() === '') return { problem: 'must be a number' };
      const n = Number(text);
      return Number.isFinite(n) ? { value: n } : { problem: 'must be a number' };
    }
    case 'boolean':
      if (truthy(raw)) return { value: true };
      if (falsy(raw)) return { value: false };
      return { problem: 'must be yes or no' };
    case 'date': {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return { problem: 'must be a date written YYYY-MM-DD' };
      const d = new Date(`${text}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text) ? { value: text } : { problem: 'is not a real date' };
    }
    case 'choice':
      return field.choices?.includes(text) ? { value: text } : { problem: `must be one of: ${(field.choices ?? []).join(', ')}` };
    case 'email':
    case 'phone': {
      const n = normaliseIdentifier(field.type, text, region);
      return n.ok ? { value: n.value } : { problem: n.problem };
    }
    case 'postcode':
      return UK_POSTCODE.test(text.trim()) || /^[A-Z0-9 -]{3,10}$/i.test(text.trim()) ? { value: text.trim().toUpperCase() } : { problem: 'is not a postcode' };
    case 'url':
      return URL.canParse(text) && /^https?:/.test(text) ? { value: text } : { problem: 'is not a web address' };
    case 'file':
      return { problem: 'file uploads are not accepted through this endpoint' };
    default: {
      if (typeof raw !== 'string') return { problem: 'must be text' };
      const trimmed = text.trim();
      return trimmed ? { value: trimmed } : { problem: 'must not be blank' };
    }
  }
}

/** Accepts `{ "patient.name": "x" }` and nested `{ patient: { name: "x" } }` alike. */
function flatten(body: Record<string, unknown>, prefix = '', out = new Map<string, unknown>(), depth = 0): Map<string, unknown> {
  for (const [key, value] of Object.entries(body)) {
    const name = prefix ? `${prefix}.${key}` : key;
    // No field name is 32 levels deep: deeper nesting stays one (undeclared) value instead of overflowing the stack.
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype && depth < 32) {
      flatten(value as Record<string, unknown>, name, out, depth + 1);
    } else out.set(name, value);
  }
  return out;
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['yes', 'true', 'on', '1'].includes(v.toLowerCase()));
}
function falsy(v: unknown): boolean {
  return v === false || v === 0 || (typeof v === 'string' && ['no', 'false', 'off', '0', ''].includes(v.toLowerCase()));
}
