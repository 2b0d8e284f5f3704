// The shape of a privacy register. Structure and types live here; the rules that relate one part of the
// register to another (references, Art. 9 conditions, transfers, PECR) live in check-rules.ts.
import { z } from 'zod';
import { DURATION_PATTERN } from '../core/duration.ts';
import { CAPABILITY_KEYS } from './capabilities.ts';

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A key used to refer to an entry from elsewhere in the register. */
const Key = z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and hyphens, starting with a letter');

/** Human text: one string, or one string per language ({ en: ..., de: ... }). */
export const Text = z.union([z.string().min(1, 'must not be empty'), z.strictObject({ en: z.string().min(1), de: z.string().min(1).optional() })]);
export type Text = z.infer<typeof Text>;

/** ISO 8601 duration: years, months, weeks, days, hours, minutes (P8Y, P3M, P2W, P14D, PT30M). */
const Duration = z.string().regex(DURATION_PATTERN, 'is not an ISO 8601 duration (examples: P8Y for 8 years, P3M for 3 months, PT30M for 30 minutes)');

const Email = z.email('is not an email address');
const Url = z.url('is not a URL');
const Country = z.string().regex(/^[A-Z]{2}$/, 'use a two-letter ISO 3166 country code such as GB, DE, US');
const IsoDate = z.iso.date('use a date written as YYYY-MM-DD');

const BASES = ['consent', 'contract', 'legal-obligation', 'vital-interests', 'public-task', 'legitimate-interests'] as const;

/** Art. 9(2) conditions for processing special category data. */
const ART9_CONDITIONS = [
  'explicit-consent', // 9(2)(a)
  'employment', // 9(2)(b)
  'vital-interests', // 9(2)(c)
  'not-for-profit', // 9(2)(d)
  'made-public', // 9(2)(e)
  'legal-claims', // 9(2)(f)
  'substantial-public-interest', // 9(2)(g)
  'health-care', // 9(2)(h)
  'public-health', // 9(2)(i)
  'archiving-research', // 9(2)(j)
] as const;

const SPECIAL_CATEGORIES = [
  'health',
  'genetic',
  'biometric',
  'racial-ethnic',
  'political',
  'religious',
  'trade-union',
  'sex-life',
  'criminal', // Art. 10 rather than Art. 9, but handled with the same care
] as const;

const RETENTION_ACTIONS = ['erase', 'anonymise', 'restrict', 'offsite', 'suppress', 'review'] as const;

/** Open-ended retention: kept until something the subject does, rather than for a fixed time. */
export const OPEN_ENDED_KEEPS = ['until-objection', 'until-withdrawn', 'until-erasure-requested', 'session'] as const;

const FIELD_TYPES = ['text', 'long-text', 'email', 'phone', 'date', 'number', 'boolean', 'choice', 'postcode', 'url', 'file'] as const;

/** Kinds of file a file field may accept, each recognised by its content (subjects/collect/file-type.ts). */
export const FILE_TYPES = ['pdf', 'jpeg', 'png', 'webp', 'heic', 'docx', 'odt'] as const;
/** A file field's size limit when the register gives none, and the most any may allow (bytes). */
export const DEFAULT_FILE_MAX_BYTES = 10 * 1024 * 1024;
const FILE_MAX_BYTES_LIMIT = 25 * 1024 * 1024;

/** Identifier kinds: a field marked with one of these is stored as an identifier of the subject it names. */
export const IDENTIFIER_KINDS = ['email', 'phone', 'patient-number', 'practice-number', 'gdc-number', 'customer-number', 'visitor-id'] as const;

/**
 * How far an identifier kind names one person. `contact`: a point of contact that families, colleagues and a
 * practice's patients share (an email, a phone): never an identity. `strong`: names one person within its scope.
 */
const IDENTIFIER_STRENGTHS = ['contact', 'strong'] as const;
/**
 * Where a strong identifier is unique. `register`: across this controller (numbers it issues, a regulator's
 * register). `issuer`: only within whoever issued it (a practice's patient number): each field names the issuer.
 */
const IDENTIFIER_SCOPES = ['register', 'issuer'] as const;

const IdentifierKind = z.strictObject({
  title: Text.optional(),
  strength: z.enum(IDENTIFIER_STRENGTHS),
  scope: z.enum(IDENTIFIER_SCOPES).default('register'),
});

export const CHANNELS = ['web', 'app', 'email', 'phone', 'post', 'in-person', 'call-centre', 'api', 'other-organisation'] as const;

const MARKETING_CHANNELS = ['email', 'sms', 'phone', 'automated-call', 'post'] as const;
const MARKETING_RULES = ['opt-in', 'soft-opt-in', 'opt-out'] as const;

const ROLES = ['controller', 'processor'] as const;
const RECIPIENT_ROLES = ['controller', 'joint-controller', 'processor', 'sub-processor', 'authority'] as const;
const SAFEGUARDS = [
  'adequacy', // adequacy decision / UK adequacy regulations
  'scc', // EU standard contractual clauses
  'idta', // UK international data transfer agreement
  'uk-addendum', // UK addendum to the EU SCCs
  'bcr', // binding corporate rules
  'dpf', // EU-US Data Privacy Framework / UK extension, for certified organisations
  'derogation', // Art. 49 derogation (e.g. explicit consent, contract)
] as const;

const COOKIE_EXEMPTIONS = ['statistics', 'appearance'] as const;

const Dpv = z
  .string()
  .regex(/^(dpv|pd|dpv-pd|risk|tech|legal|loc):[A-Za-z0-9]+$/, 'use a DPV term such as dpv:ServiceProvision or pd:HealthRecord')
  .optional();

const Address = Text;

const Contact = z.strictObject({
  title: Text,
  name: z.string().optional(),
  email: Email.optional(),
  phone: z.string().optional(),
  address: Address.optional(),
  url: Url.optional(),
});

const Authority = z.strictObject({
  name: Text,
  url: Url.optional(),
  address: Address.optional(),
  phone: z.string().optional(),
});

const Registration = z.strictObject({ authority: z.string(), number: z.string() });

const Controller = z.strictObject({
  name: z.string().min(1),
  address: Address,
  email: Email.optional(),
  phone: z.string().optional(),
  website: Url.optional(),
  /** One registration, or several (an ICO number and a company number). */
  registration: z.union([Registration, z.array(Registration).min(1)]).optional(),
  /** People the notice names as responsible (a managing director, an owner), with their role where given. */
  responsible: z.array(z.strictObject({ name: z.string().min(1), role: Text.optional() })).default([]),
  dpo: Contact.optional(),
  representative: Contact.optional(),
  jurisdiction: z.enum(['uk', 'eu']),
  /** Where the business is established; the default region for phone numbers written without +country code. */
  country: Country.optional(),
  /** Overrides the supervisory authority named in notices (e.g. a German state authority). */
  authority: Authority.optional(),
  /** A published list of supervisory authorities and their contacts (e.g. the BfDI's list of German state authorities). */
  'authorities-list': Url.optional(),
  /**
   * A UK controller whose notice also addresses people in the EU: they may complain in their member state of
   * residence, work or the alleged infringement (EU GDPR Art. 77). Always said for EU controllers.
   */
  'eu-complaints': z.boolean().default(false),
  roles: z.array(z.enum(ROLES)).min(1).default(['controller']),
  /**
   * The controller is itself a health professional (UK DPA 2018 Sch. 3 Part 2 para. 2): health data goes into an
   * access answer without first asking an appropriate health professional's opinion. Off by default: the gate applies.
   */
  'health-professional': z.boolean().default(false),
});

/** Statements a notice can make in fixed, translated words; `check` holds each against the register. */
const NOTICE_STATEMENTS = ['no-sale', 'no-marketing-sharing', 'gdpr-principles'] as const;

const Notice = z.strictObject({
  /** The version label people see, e.g. "2026-11". */
  version: z.string().optional(),
  effective: IsoDate,
  language: z.enum(LANGUAGES).default('en'),
  intro: Text.optional(),
  /**
   * Promises the notice makes that need the running system's machinery (register/capabilities.ts): each sentence
   * appears only when this installation can keep it; `check` warns about one it cannot keep yet.
   */
  promises: z.array(z.enum(CAPABILITY_KEYS)).default([]),
  /** Fixed statements the business makes (no-sale: we do not sell data; no-marketing-sharing; gdpr-principles). */
  statements: z.array(z.enum(NOTICE_STATEMENTS)).default([]),
  /** Free-text sections the register cannot express as data (scope, external links...). */
  extra: z.array(z.strictObject({ heading: Text, text: Text })).default([]),
});

const Subject = z.strictObject({ title: Text, description: Text.optional(), dpv: Dpv });

const DataCategory = z.strictObject({
  title: Text,
  description: Text.optional(),
  special: z.enum(SPECIAL_CATEGORIES).optional(),
  /** Seal values of this category at rest even when it is not a special category. */
  encrypt: z.boolean().default(false),
  /**
   * Whom the category is about, where no collection point says so (usage data, logs, data from other sources).
   * Otherwise the notice takes it from the fields that collect it.
   */
  about: z.array(Key).optional(),
  dpv: Dpv,
});

const Source = z.strictObject({
  title: Text,
  /** Publicly accessible sources must be named in Art. 14 notices. */
  public: z.boolean().default(false),
  country: Country.optional(),
});

const Event = z.strictObject({
  /** How the event reads after "after", e.g. "your scan is completed". */
  title: Text,
});

const Retention = z.strictObject({
  keep: z.union([Duration, z.enum(OPEN_ENDED_KEEPS)], {
    error: 'must be an ISO 8601 duration such as P8Y, or one of until-objection, until-withdrawn, until-erasure-requested, session',
  }),
  /** The event that starts the clock. */
  after: Key.optional(),
  then: z.enum(RETENTION_ACTIONS),
  /** Children's records: kept at least until this birthday (NHS code: 25). */
  'until-age': z.number().int().min(1).max(120).optional(),
  /** The law or guidance the period comes from. */
  law: Text.optional(),
  /** Also ends earlier on any of these, whichever comes first ("or until you withdraw your consent"). */
  or: z.array(z.enum(['until-objection', 'until-withdrawn', 'until-erasure-requested'])).optional(),
  /** Further step once the first action is done, e.g. restrict then erase. */
  finally: z.strictObject({ keep: Duration, then: z.enum(RETENTION_ACTIONS) }).optional(),
});
export type Retention = z.infer<typeof Retention>;

const AutomatedDecision = z.strictObject({
  logic: Text,
  significance: Text,
});

const Purpose = z.strictObject({
  title: Text,
  description: Text.optional(),
  basis: z.enum(BASES),
  /** Legitimate interests: the interest pursued. */
  interest: Text.optional(),
  /** Legal obligation: the law that requires it. */
  law: Text.optional(),
  /** Art. 9(2) condition, required when any category is special. */
  condition: z.enum(ART9_CONDITIONS).optional(),
  subjects: z.array(Key).min(1),
  data: z.array(Key).min(1),
  recipients: z.array(Key).default([]),
  sources: z.array(Key).default([]),
  retention: Retention,
  /** Direct marketing channels and the PECR rule each follows. */
  channels: z.partialRecord(z.enum(MARKETING_CHANNELS), z.enum(MARKETING_RULES)).optional(),
  /**
   * Soft opt-in channels (PECR reg. 22(3)): the collection points whose submission is a sale or negotiations for a
   * sale, each with what is sold or negotiated. A submission that leaves the point's refusal box (`objects:` this
   * purpose) unticked is recorded as the soft opt-in, with its sale; without such a record nobody is sent this marketing.
   */
  'soft-opt-in': z
    .array(z.strictObject({ point: Key, sale: Text.optional() }))
    .min(1)
    .optional(),
  /** Consent purposes: how consent is withdrawn (defaults to the privacy centre and any unsubscribe link). */
  withdraw: Text.optional(),
  /** Consent purposes: consent lapses after this long unless renewed. */
  'consent-lasts': Duration.optional(),
  /** Automated decision-making with legal or similarly significant effects (Art. 22). */
  automated: AutomatedDecision.optional(),
  dpv: Dpv,
});

const Transfer = z.strictObject({
  safeguard: z.enum(SAFEGUARDS),
  /** An Art. 49 derogation covers only occasional transfers: say so when this one is. */
  occasional: z.boolean().default(false),
  /** How a person can get a copy of the safeguard. */
  copy: Text.optional(),
  note: Text.optional(),
});

const Recipient = z.strictObject({
  title: Text,
  role: z.enum(RECIPIENT_ROLES),
  country: Country,
  /** Named organisations, where the notice names them. */
  names: z.array(z.string()).default([]),
  /** The only categories this recipient receives, where it gets less than every category of its purposes. */
  receives: z.array(Key).optional(),
  transfer: Transfer.optional(),
  /** Processors are bound by an Art. 28 agreement. */
  agreement: z.boolean().optional(),
  /** Where Art. 19 notices go (a rectification, erasure or restriction of data this recipient received). */
  notify: z.strictObject({ email: Email }).optional(),
  dpv: Dpv,
});

const Cookie = z.strictObject({
  names: z.array(z.string().min(1)).min(1),
  /** strictly-necessary, or the key of the purpose the cookie serves. */
  purpose: Key,
  lasts: z.union([z.literal('session'), Duration], {
    error: 'must be "session" or an ISO 8601 duration such as P14D',
  }),
  /** first-party, or the key of the recipient that sets or reads it. */
  provider: Key,
  description: Text.optional(),
  /** UK DUAA exemptions from consent (statistics, appearance): still informed and objectable. */
  exemption: z.enum(COOKIE_EXEMPTIONS).optional(),
  /**
   * The cookie the banner keeps each visitor's cookie choice in (web/consent-client/): first-party, strictly
   * necessary, one name, lasting as long as declared. Exactly one cookie says so when any cookie needs asking about.
   */
  'keeps-consent-choice': z.literal(true).optional(),
});

const Field = z.strictObject({
  data: Key,
  required: z.boolean().default(false),
  type: z.enum(FIELD_TYPES).default('text'),
  label: Text.optional(),
  identifier: z.enum(IDENTIFIER_KINDS).optional(),
  /** With an identifier scoped by its issuer: the field of this form that names the issuer (the practice number). */
  'issued-by': z.string().optional(),
  choices: z.array(z.string()).optional(),
  max: z.number().int().positive().optional(),
  /** A file field: the kinds of file accepted, recognised by content (default: pdf, jpeg, png). */
  accept: z.array(z.enum(FILE_TYPES)).min(1).optional(),
  /** A file field: the largest file accepted, in bytes (default 10 MiB, at most 25 MiB). */
  'max-size': z.number().int().positive().max(FILE_MAX_BYTES_LIMIT).optional(),
  /** A checkbox that gives consent to this (consent-based) purpose when ticked; recorded in the consent ledger. */
  consent: Key.optional(),
  /**
   * A checkbox that objects to this marketing purpose when ticked ("no news by post"): recorded in the consent ledger
   * as an objection, and that marketing stops at once. With `channel`, only that channel; without, every channel.
   */
  objects: Key.optional(),
  /** With `consent` or `objects`: the marketing channel the consent or objection covers (email, sms, phone, post...). */
  channel: z.enum(MARKETING_CHANNELS).optional(),
  /** Whom this field is about, where not the point's subject (the referring dentist's own email on a patient's form). */
  about: Key.optional(),
  /** A date field holding the person's date of birth: what "until-age" retention counts from. */
  'birth-date': z.literal(true).optional(),
  /** The person's full name: compared, with the birth date, to tell whether a new submission may be someone known. */
  'full-name': z.literal(true).optional(),
});
export type Field = z.infer<typeof Field>;

const CollectionPoint = z.strictObject({
  title: Text,
  subject: Key,
  /** Who supplies the data: "subject" (the person), another subject kind, or a declared source. */
  source: z.string().default('subject'),
  channel: z.enum(CHANNELS).default('web'),
  fields: z.record(z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'field names use lower-case letters, digits, dots, hyphens and underscores'), Field),
  purposes: z.array(Key).min(1),
  /** The event whose date starts the retention clock of what is collected here, where not the collection itself. */
  starts: Key.optional(),
  /** Groups of fields of which at least one must be given ("patient name or number"). */
  'one-of': z.array(z.array(z.string()).min(2)).default([]),
});

const Rights = z.strictObject({
  email: Email.optional(),
  url: Url.optional(),
  post: Address.optional(),
  phone: z.string().optional(),
  /** When proof of identity is asked for. */
  identity: z.enum(['reasonable-doubt', 'always']).default('reasonable-doubt'),
  /** Fee for further copies of an access response. */
  'further-copy-fee': z.string().optional(),
  /**
   * Whose public holidays move a rights-request deadline that falls on one (a date-holidays region: GB-ENG, GB-SCT,
   * GB-NIR, DE, DE-BY...). Defaults to England and Wales for UK registers and the controller's country for EU ones.
   */
  holidays: z
    .string()
    .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'use a region code such as GB-ENG, GB-SCT, DE or DE-BY')
    .optional(),
  /**
   * How long a closed request's record of who asked is kept as evidence of how it was handled (default P6Y, the
   * limitation period for claims in England and Wales); the decisions per record and the audit trail stay.
   */
  'evidence-kept': Duration.default('P6Y'),
  /** The time zone of the controller's calendar: a request received at 23:30 UTC may be received "tomorrow". */
  'time-zone': z.string().optional(),
});

const ProcessorActivity = z.strictObject({
  title: Text,
  controllers: z.array(Key).min(1),
  data: z.array(Key).min(1),
  subjects: z.array(Key).min(1),
  recipients: z.array(Key).default([]),
});

/** How the running service itself handles personal data: its request log and visitor sessions. */
const Service = z.strictObject({
  /** Per-request log with truncated IP and browser family; kept as long as the named purpose's retention says. */
  'access-log': z.strictObject({ purpose: Key }).optional(),
  /**
   * The newsletter, confirmed by double opt-in (consent/newsletter.ts): its sign-up point (an email field and a
   * consent box for an email purpose); the emailed confirmation link lasts `confirm-within`, after which an
   * unconfirmed sign-up is deleted.
   */
  newsletter: z.strictObject({ point: Key, 'confirm-within': Duration.default('P7D') }).optional(),
  /**
   * Email consent ticked on a public form (a consent box for a purpose whose email channel is opt-in) counts only once
   * confirmed from that mailbox (consent/email-consent.ts): the emailed link lasts `confirm-within` (P7D when not
   * declared), after which the pending consent has expired and the link does nothing.
   */
  'email-consent': z.strictObject({ 'confirm-within': Duration }).optional(),
  /** Server-side visitor sessions keyed by a random id in the named (strictly necessary) cookie. */
  'visitor-session': z.strictObject({ cookie: Key, idle: Duration.default('PT30M') }).optional(),
});

const Processing = z.strictObject({
  controllers: z.record(Key, Contact),
  activities: z.record(Key, ProcessorActivity),
});

export const RegisterSchema = z.strictObject({
  custodian: z.literal(1, { error: 'must be 1 (the register format version)' }),
  controller: Controller,
  notice: Notice,
  rights: Rights.default({ identity: 'reasonable-doubt', 'evidence-kept': 'P6Y' }),
  security: z.array(Text).min(1, 'list at least one security measure (Art. 30(1)(g))'),
  subjects: z.record(Key, Subject),
  data: z.record(Key, DataCategory),
  sources: z.record(Key, Source).default({}),
  events: z.record(Key, Event).default({}),
  purposes: z.record(Key, Purpose),
  recipients: z.record(Key, Recipient).default({}),
  cookies: z.record(Key, Cookie).default({}),
  /** How far each identifier kind names one person (register/identifiers.ts has the defaults). */
  identifiers: z.partialRecord(z.enum(IDENTIFIER_KINDS), IdentifierKind).default({}),
  collection: z.record(Key, CollectionPoint).default({}),
  service: Service.default({}),
  /** Art. 30(2): processing carried out as a processor on behalf of other controllers. */
  processing: Processing.optional(),
});

export type RegisterData = z.output<typeof RegisterSchema>;
