// The request half of collection: a submission checked against its collection point, once, into everything the
// database half needs. Exactly the declared fields, with their types and required flags; JSON and form-encoded
// bodies alike (form strings are coerced here); identifier fields normalised once, with how far each names a person
// (register/identifiers.ts) and, for one unique only within its issuer, which issuer. What comes out is plain data:
// it crosses to the writer thread as it is. Files (multipart uploads) are checked by content, never by the name or
// type the sender gives, against the kinds and size the register allows for the field.
import { CustodianError } from '../../core/errors.ts';
import { isUuid } from '../../core/ids.ts';
import { identifierRule, type IdentifierKind } from '../../register/identifiers.ts';
import type { Register } from '../../register/load-register.ts';
import type { PendingEmailConsent } from '../../consent/email-consent.ts';
import { type CHANNELS, DEFAULT_FILE_MAX_BYTES, type Field, type Language } from '../../register/schema.ts';
import { compactReference, defaultPhoneRegion, normaliseIdentifier, normaliseName } from '../normalise-identifier.ts';
import type { SubmittedIdentifier } from '../subjects-store.ts';
import { type FileType, MEDIA_TYPES, sniffFileType } from './file-type.ts';

type Channel = (typeof CHANNELS)[number];

export interface FieldProblem {
  readonly field: string;
  /** What is wrong, for pages that word it in the person's language (web/form-strings.ts). */
  readonly code: string;
  /** The same in English, for the API. */
  readonly problem: string;
  readonly params?: Readonly<Record<string, string | number | readonly string[]>>;
}

type FieldValue = string | number | boolean;
type CleanValues = ReadonlyMap<string, FieldValue>;

/** A file as it arrived in a multipart body: the sender's name for it and its bytes (what it is is checked here). */
export class Upload {
  readonly filename: string;
  readonly bytes: Uint8Array;
  constructor(filename: string, bytes: Uint8Array) {
    this.filename = filename;
    this.bytes = bytes;
  }
}

/** An accepted file: its kind told by content, a safe name, the bytes (sealed when written). */
export interface FileValue {
  readonly name: string;
  readonly type: FileType;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** File fields accept these kinds when the register does not say. */
export const DEFAULT_FILE_TYPES: readonly FileType[] = ['pdf', 'jpeg', 'png'];

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
  /** The request carried `Sec-GPC: 1` (public submissions only: a staff member's browser speaks for nobody else). */
  readonly gpc?: boolean;
  /** The language the person used (the hosted form's), for the mail confirming their email consent. */
  readonly language?: Language;
}

export interface CollectResult {
  readonly subjectId: string;
  readonly recordIds: string[];
  readonly createdSubject: boolean;
  /** "Possibly the same person" items this submission opened for staff. */
  readonly reviewItems: number;
  /** Email consents ticked on a public form, recorded as pending until confirmed from the mailbox. */
  readonly pendingConsents: readonly PendingEmailConsent[];
  /** How many confirmation mails went out for them (none without an address, or with one outstanding or suppressed). */
  readonly confirmationsSent: number;
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
  /** Files of file fields, always sealed: the record's value is the file's name. */
  readonly files: ReadonlyMap<string, FileValue>;
  /** Consents the person gave by ticking the form's consent checkboxes. */
  readonly consents: readonly ConsentGiven[];
  readonly identifiers: readonly SubmittedIdentifier[];
  readonly traits: Traits;
  /** Staff vouch for what they record: their strong identifiers find the person and are verified. */
  readonly vouched: boolean;
  /** The person staff chose, if they did. */
  readonly attachTo: string | null;
  /** A Global Privacy Control signal came with a public submission. */
  readonly gpc: boolean;
  readonly actor: string;
  readonly channel: Channel;
  readonly receivedAt: Date | null;
}

/** Validates a submission against its collection point; throws `not_found`, or `invalid_fields` listing every problem. */
export function prepareSubmission(register: Register, input: CollectInput): PreparedSubmission {
  const point = Object.hasOwn(register.collection, input.point) ? register.collection[input.point] : undefined;
  if (!point) throw new CustodianError('not_found', `there is no collection point "${input.point.slice(0, 64)}" in the register`);
  const body = input.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    refuse([{ field: '(body)', code: 'body', problem: 'send the fields as a JSON object or a form' }]);

  const problems: FieldProblem[] = [];
  const values = new Map<string, FieldValue>();
  const files = new Map<string, FileValue>();
  const consents: ConsentGiven[] = [];
  const identifiers: { field: string; kind: IdentifierKind; value: string }[] = [];
  const region = defaultPhoneRegion(register.controller);

  for (const [name, raw] of flatten(body as Record<string, unknown>)) {
    const field = Object.hasOwn(point.fields, name) ? point.fields[name] : undefined; // not `constructor`, `toString`…
    if (!field) {
      problems.push({ field: name, code: 'unknown-field', problem: 'is not a field of this form' });
      continue;
    }
    if (raw === undefined || raw === null || raw === '') continue;
    if (field.type === 'file' || raw instanceof Upload) {
      const file = checkFile(field, raw);
      if ('problem' in file) problems.push({ field: name, ...file });
      else if (file.value) files.set(name, file.value);
      continue;
    }
    const result = coerce(field, raw, region);
    if ('problem' in result) {
      problems.push({ field: name, ...result });
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
    else problems.push({ field: name, code: id.code, problem: id.problem });
  }
  const given = (name: string) => values.has(name) || files.has(name);
  const troubled = (name: string) => problems.some((p) => p.field === name);
  for (const [name, field] of Object.entries(point.fields)) {
    if (field.required && !given(name) && !troubled(name)) problems.push({ field: name, code: 'required', problem: 'is required' });
  }
  // "Patient name or number": a group none of whose fields came is refused, each field saying which others would do.
  for (const group of point['one-of']) {
    if (group.some((name) => given(name) || troubled(name))) continue;
    for (const name of group) {
      const others = group.filter((n) => n !== name);
      problems.push({ field: name, code: 'one-of', problem: `is required unless ${others.join(' or ')} is given`, params: { others } });
    }
  }
  const vouched = input.actor.startsWith('staff:');
  if (input.subjectId !== undefined && (!vouched || !isUuid(input.subjectId)))
    problems.push({ field: '(subject)', code: 'subject', problem: 'is not a Custodian id' });
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
    files,
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
    gpc: input.gpc === true && !vouched,
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

type Problem = Omit<FieldProblem, 'field'>;
const problem = (code: string, text: string, params?: FieldProblem['params']): Problem => (params ? { code, problem: text, params } : { code, problem: text });

function coerce(field: Field, raw: unknown, region: string | undefined): { value: FieldValue } | Problem {
  if (Array.isArray(raw) || (typeof raw === 'object' && raw !== null)) return problem('single-value', 'must be a single value');
  const text = typeof raw === 'string' ? raw.normalize('NFC') : String(raw);
  const max = field.max ?? DEFAULT_MAX[field.type];
  if (max !== undefined && text.length > max) return problem('too-long', `is longer than ${max} characters`, { max });
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text)) return problem('control', 'contains control characters');
  if (!text.isWellFormed()) return problem('not-text', 'contains characters that are not valid text');
  switch (field.type) {
    case 'number': {
      if (typeof raw === 'boolean' || text.trim() === '') return problem('number', 'must be a number');
      const n = Number(text);
      return Number.isFinite(n) ? { value: n } : problem('number', 'must be a number');
    }
    case 'boolean':
      if (truthy(raw)) return { value: true };
      if (falsy(raw)) return { value: false };
      return problem('yes-no', 'must be yes or no');
    case 'date': {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return problem('date', 'must be a date written YYYY-MM-DD');
      const d = new Date(`${text}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text) ? { value: text } : problem('date-real', 'is not a real date');
    }
    case 'choice':
      return field.choices?.includes(text)
        ? { value: text }
        : problem('choice', `must be one of: ${(field.choices ?? []).join(', ')}`, { choices: field.choices ?? [] });
    case 'email':
    case 'phone': {
      const n = normaliseIdentifier(field.type, text, region);
      return n.ok ? { value: n.value } : problem(n.code, n.problem);
    }
    case 'postcode':
      return UK_POSTCODE.test(text.trim()) || /^[A-Z0-9 -]{3,10}$/i.test(text.trim())
        ? { value: text.trim().toUpperCase() }
        : problem('postcode', 'is not a postcode');
    case 'url':
      return URL.canParse(text) && /^https?:/.test(text) ? { value: text } : problem('url', 'is not a web address');
    default: {
      if (typeof raw !== 'string') return problem('text', 'must be text');
      const trimmed = text.trim();
      return trimmed ? { value: trimmed } : problem('blank', 'must not be blank');
    }
  }
}

/**
 * A file field's value: an upload (multipart), of a kind the field accepts as told by its first bytes, within its
 * size. An empty file input (a browser sends one when nothing was chosen) is no value.
 */
function checkFile(field: Field, raw: unknown): { value: FileValue | null } | Problem {
  if (field.type !== 'file') return problem('single-value', 'must be a single value');
  if (!(raw instanceof Upload)) return problem('file-expected', 'is a file: send the form as multipart/form-data with the file in this field');
  if (raw.bytes.length === 0) return raw.filename === '' ? { value: null } : problem('file-empty', 'is an empty file');
  const max = field['max-size'] ?? DEFAULT_FILE_MAX_BYTES;
  if (raw.bytes.length > max) return problem('file-too-big', `is larger than ${max} bytes`, { max });
  const accept = field.accept ?? DEFAULT_FILE_TYPES;
  const type = sniffFileType(raw.bytes);
  if (!type || !accept.includes(type)) {
    return problem('file-type', `must be a file of type ${accept.join(', ')} (the content is checked, not the name)`, { accept });
  }
  return { value: { name: safeFileName(raw.filename, type), type, mediaType: MEDIA_TYPES[type], bytes: raw.bytes } };
}

/** The sender's file name without folders or control characters, at most 200 characters, with its kind's extension. */
export function safeFileName(sent: string, type: FileType): string {
  const base = (sent.normalize('NFC').split(/[\\/]/).pop() ?? '')
    .replace(/[\u0000-\u001F\u007F"]/g, '')
    .trim()
    .slice(0, 200);
  const name = base.isWellFormed() && base !== '' && base !== '.' && base !== '..' ? base : 'upload';
  const ext = type === 'jpeg' ? /\.(jpe?g)$/i : new RegExp(`\\.${type}$`, 'i');
  return ext.test(name) ? name : `${name}.${type === 'jpeg' ? 'jpg' : type}`;
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
