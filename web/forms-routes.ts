// Hosted forms: every collection point of the register as an accessible HTML form at /forms/{point}, posting
// through the same collection path as the API. Where the register declares a visitor session, what a person typed
// (never sealed values, never files) is kept server-side as a draft, so leaving the page and coming back loses
// nothing. Forms with file fields post multipart/form-data. Pages and problems are in the register's notice language,
// or the one asked for (?lang=en|de), with the register's labels: never a field's key.
import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app/app-context.ts';
import { approximateSeconds } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { gpcSignalled } from '../consent/consent-purposes.ts';
import { isSealedCategory } from '../register/categories.ts';
import type { Register } from '../register/load-register.ts';
import { DEFAULT_FILE_MAX_BYTES, type Field, type Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import type { Collector } from '../subjects/collect/collector.ts';
import { MEDIA_TYPES } from '../subjects/collect/file-type.ts';
import { DEFAULT_FILE_TYPES, type FieldProblem } from '../subjects/collect/prepare-submission.ts';
import { acceptMultipart, pointLimits, readMultipart } from '../subjects/collect/read-multipart.ts';
import { formStrings } from './form-strings.ts';
import { NewSessionLimit } from '../visitors/new-session-limit.ts';
import { loadVisitorSession, newVisitorToken, saveVisitorSession, visitorSessionConfig, type VisitorSessionConfig } from '../visitors/visitor-session-store.ts';

/** New visitor sessions one network (IPv4 /24, IPv6 /48) may open per window; see visitors/new-session-limit.ts. */
export const NEW_SESSIONS_PER_NETWORK = 30;
const NEW_SESSIONS_WINDOW_MS = 10 * 60_000;

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

interface FormField {
  name: string;
  id: string;
  label: string;
  kind: string;
  required: boolean;
  value: string;
  error: string | null;
  choices: readonly string[];
  max: number | undefined;
  autocomplete: string | undefined;
  /** File fields: the input's accept list and the hint naming the kinds and size. */
  accept: string | undefined;
  hint: string | undefined;
}

const INPUT_KIND: Record<Field['type'], string> = {
  text: 'text',
  'long-text': 'textarea',
  email: 'email',
  phone: 'tel',
  date: 'date',
  number: 'number',
  boolean: 'checkbox',
  choice: 'select',
  postcode: 'text',
  url: 'url',
  file: 'file',
};

export interface FormsOptions {
  readonly ctx: Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor'>;
  readonly collector: Collector;
  readonly https: boolean;
}

export async function formsRoutes(app: FastifyInstance, { ctx, collector, https }: FormsOptions): Promise<void> {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  const { register } = ctx;
  await acceptMultipart(app, register);
  const sessions = visitorSessionConfig(register);
  const newSessions = new NewSessionLimit({ max: NEW_SESSIONS_PER_NETWORK, windowMs: NEW_SESSIONS_WINDOW_MS });

  for (const [key, point] of Object.entries(register.collection)) {
    // Forms staff fill in (post, phone, email) are not published.
    if (point.channel !== 'web') continue;
    const draftKey = `draft:${key}`;
    const limits = pointLimits(register, key);

    app.get(`/forms/${key}`, { schema: { hide: true } }, async (req, reply) => {
      const draft = sessions ? ((await readSession(req, sessions))?.[draftKey] as Record<string, string> | undefined) : undefined;
      return send(reply, 200, page(register, key, langOf(req), draft ?? {}, [], { gpc: gpcOf(req) }));
    });

    app.get(`/forms/${key}/thanks`, { schema: { hide: true } }, async (req, reply) => {
      const confirm = (req.query as { confirm?: unknown } | undefined)?.confirm === 'email';
      return send(reply, 200, page(register, key, langOf(req), {}, [], { thanks: true, gpc: gpcOf(req), confirm }));
    });

    app.post(`/forms/${key}`, { schema: { hide: true } }, async (req, reply) => {
      const lang = langOf(req);
      const gpc = gpcOf(req);
      let body: Record<string, unknown> = {};
      let mailed = false;
      try {
        body = req.isMultipart() ? await readMultipart(req, limits) : flatBody(req.body);
        mailed = (await collector.submit({ point: key, body, actor: `public:${key}`, gpc, language: lang })).confirmationsSent > 0;
      } catch (e) {
        if (!(e instanceof CustodianError) || !['invalid_fields', 'consent_required', 'payload_too_large'].includes(e.code)) throw e;
        if (e.code === 'payload_too_large') return send(reply, 413, page(register, key, lang, {}, tooLarge(register, key), { gpc }));
        const problems = (e.details?.problems ?? []) as FieldProblem[];
        const text = textOnly(body);
        if (sessions) await keepDraft(req, reply, sessions, draftKey, text);
        return send(reply, 400, page(register, key, lang, text, problems, { gpc }));
      }
      if (sessions) await keepDraft(req, reply, sessions, draftKey, {});
      const query = new URLSearchParams(langQuery(req));
      if (mailed) query.set('confirm', 'email');
      return reply.redirect(`/forms/${key}/thanks${query.size > 0 ? `?${query}` : ''}`, 303);
    });
  }

  /** The language asked for, else the register's. */
  function langOf(req: FastifyRequest): Language {
    const lang = (req.query as { lang?: unknown } | undefined)?.lang;
    return lang === 'en' || lang === 'de' ? lang : register.notice.language;
  }

  async function readSession(req: FastifyRequest, config: VisitorSessionConfig): Promise<Record<string, unknown> | null> {
    const token = req.cookies[config.cookieName];
    return token ? loadVisitorSession(ctx.db, token, ctx.clock.now()) : null;
  }

  /** Keeps the non-sealed values as a draft; sealed categories never leave the encrypted record store. */
  async function keepDraft(
    req: FastifyRequest,
    reply: FastifyReply,
    config: VisitorSessionConfig,
    draftKey: string,
    body: Record<string, string>,
  ): Promise<void> {
    const pointKey = draftKey.slice('draft:'.length);
    const point = register.collection[pointKey]!;
    // Only declared, non-sealed fields, and only text a database can hold (a refused value may be anything).
    const draft = Object.fromEntries(
      Object.entries(body).filter(
        ([name, value]) =>
          Object.hasOwn(point.fields, name) && !isSealedCategory(register, point.fields[name]!.data) && value.isWellFormed() && !value.includes('\u0000'),
      ),
    );
    const now = ctx.clock.now();
    let token = req.cookies[config.cookieName];
    const existing = token ? await loadVisitorSession(ctx.db, token, now) : null;
    if (!existing) {
      // A new session only to keep something, and only as many per network as a person could plausibly need.
      if (Object.keys(draft).length === 0 || !newSessions.allow(req.ip, now)) return;
      token = newVisitorToken();
    }
    const draftFields = Object.keys(draft).length;
    await saveVisitorSession(ctx.db, ctx.auditor, {
      token: token!,
      data: { ...existing, [draftKey]: draft },
      config,
      now,
      draft: { point: pointKey, fields: draftFields },
    });
    const cookie = register.cookies[register.service['visitor-session']!.cookie];
    const maxAge = cookie && cookie.lasts !== 'session' ? approximateSeconds(cookie.lasts) : undefined;
    reply.setCookie(config.cookieName, token!, { path: '/forms', httpOnly: true, sameSite: 'lax', secure: https, ...(maxAge ? { maxAge } : {}) });
  }
}

/** The browser sends Global Privacy Control (`Sec-GPC: 1`, exactly): the page says it is honoured. */
function gpcOf(req: FastifyRequest): boolean {
  return gpcSignalled(req.headers['sec-gpc']);
}

/** The query string that keeps an explicitly chosen language. */
function langQuery(req: FastifyRequest): string {
  const lang = (req.query as { lang?: unknown } | undefined)?.lang;
  return lang === 'en' || lang === 'de' ? `?lang=${lang}` : '';
}

/** A field as people read it: its label in the language, else a plain version of its name. */
function labelOf(field: Field | undefined, name: string, lang: Language): string {
  if (!field) return name; // not a field of the form: named as it was sent
  if (field.label) return pickText(field.label, lang);
  const words = name.replace(/[._-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The collection's problems as this form shows them: "only used with your consent" once, at the consent checkbox,
 * naming the fields it concerns, instead of at each of them.
 */
function formProblems(register: Register, key: string, problems: readonly FieldProblem[]): FieldProblem[] {
  const point = register.collection[key]!;
  const out: FieldProblem[] = [];
  const atBox = new Map<string, string[]>();
  for (const p of problems) {
    const boxes = p.code === 'consent-needed' && Array.isArray(p.params?.consent) ? (p.params.consent as string[]) : [];
    const box = boxes.find((b) => Object.hasOwn(point.fields, b));
    if (!box) out.push(p);
    else atBox.set(box, [...(atBox.get(box) ?? []), p.field]);
  }
  for (const [box, fields] of atBox) out.push({ field: box, code: 'consent-needed', problem: 'must be ticked', params: { fields } });
  return out;
}

function tooLarge(register: Register, key: string): FieldProblem[] {
  const files = Object.entries(register.collection[key]!.fields).filter(([, f]) => f.type === 'file');
  return files.map(([name, f]) => ({ field: name, code: 'file-too-big', problem: 'is too large', params: { max: f['max-size'] ?? DEFAULT_FILE_MAX_BYTES } }));
}

/** What the page says beside the form: a thank-you, the GPC signal honoured, a confirmation mail sent. */
interface PageState {
  readonly thanks?: boolean;
  readonly gpc?: boolean;
  readonly confirm?: boolean;
}

function page(
  register: Register,
  key: string,
  lang: Language,
  values: Record<string, string>,
  refused: readonly FieldProblem[],
  state: PageState = {},
): string {
  const point = register.collection[key]!;
  const s = formStrings(lang);
  const title = pickText(point.title, lang);
  const problems = formProblems(register, key, refused);
  const label = (name: string) => labelOf(Object.hasOwn(point.fields, name) ? point.fields[name] : undefined, name, lang);
  const message = (p: FieldProblem) => s.problem(p.code, label(p.field), p.params ?? {}, (names) => names.map(label), p.problem);
  const fields: FormField[] = Object.entries(point.fields).map(([name, f]) => {
    const problem = problems.find((p) => p.field === name);
    const accept = f.type === 'file' ? (f.accept ?? DEFAULT_FILE_TYPES) : [];
    return {
      name,
      id: `f-${name.replace(/[^a-z0-9-]/gi, '-')}`,
      label: label(name),
      kind: INPUT_KIND[f.type],
      required: f.required,
      value: f.type === 'file' ? '' : (values[name] ?? ''),
      error: problem ? message(problem) : null,
      choices: f.choices ?? [],
      max: f.type === 'file' ? undefined : f.max,
      autocomplete: f.identifier === 'email' ? 'email' : f.identifier === 'phone' ? 'tel' : undefined,
      accept: f.type === 'file' ? accept.flatMap((k) => [`.${k === 'jpeg' ? 'jpg' : k}`, MEDIA_TYPES[k]]).join(',') : undefined,
      hint:
        f.type === 'file'
          ? `${s.fileHint(
              accept.map((k) => s.kinds[k]),
              Math.round(((f['max-size'] ?? DEFAULT_FILE_MAX_BYTES) / (1024 * 1024)) * 10) / 10,
            )}${refused.length > 0 ? ` ${s.fileAgain}` : ''}`
          : undefined,
    };
  });
  const errors = problems.map((p) => ({ id: fields.find((x) => x.name === p.field)?.id ?? 'main', message: message(p) }));
  const purposes = point.purposes.map((p) => pickText(register.purposes[p]!.title, lang)).join('; ');
  const other: Language = lang === 'de' ? 'en' : 'de';
  const bilingual = [point.title, ...Object.values(point.fields).map((f) => f.label)].some((t) => t !== undefined && typeof t === 'object' && t.de);
  return eta.render('./public-form', {
    lang,
    s,
    q: lang === register.notice.language ? '' : `?lang=${lang}`,
    other: bilingual ? other : null,
    controllerName: register.controller.name,
    title,
    point: key,
    multipart: Object.values(point.fields).some((f) => f.type === 'file'),
    fields,
    errors,
    purposes,
    thanks: state.thanks === true,
    gpc: state.gpc === true,
    confirm: state.confirm === true,
  });
}

function send(reply: FastifyReply, status: number, html: string) {
  // A form page may show what someone typed (their draft, or a refused submission): never kept by a cache.
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** What a refused form may show again and keep as a draft: its text, never a file. */
function textOnly(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Form posts arrive as strings; unchecked checkboxes are absent. Anything else is not a form. */
function flatBody(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CustodianError('invalid_body', 'send the form fields');
  // No prototype: a field named __proto__ stays a field (and is refused as undeclared) instead of vanishing.
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v;
    else throw new CustodianError('invalid_body', 'each form field carries one value');
  }
  return out;
}
