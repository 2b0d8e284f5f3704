// Hosted forms: every collection point of the register as an accessible HTML form at /forms/{point}, posting
// through the same collection path as the API. Where the register declares a visitor session, what a person typed
// (never sealed values) is kept server-side as a draft, so leaving the page and coming back loses nothing.
import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app/app-context.ts';
import { approximateSeconds } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { isSealedCategory } from '../register/categories.ts';
import type { Register } from '../register/load-register.ts';
import type { Field } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import type { Collector } from '../subjects/collect/collector.ts';
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
  const sessions = visitorSessionConfig(register);
  const newSessions = new NewSessionLimit({ max: NEW_SESSIONS_PER_NETWORK, windowMs: NEW_SESSIONS_WINDOW_MS });

  for (const [key, point] of Object.entries(register.collection)) {
    // Forms staff fill in (post, phone, email) are not published.
    if (point.channel !== 'web') continue;
    const draftKey = `draft:${key}`;

    app.get(`/forms/${key}`, { schema: { hide: true } }, async (req, reply) => {
      const draft = sessions ? ((await readSession(req, sessions))?.[draftKey] as Record<string, string> | undefined) : undefined;
      return send(reply, 200, page(register, key, draft ?? {}, []));
    });

    app.get(`/forms/${key}/thanks`, { schema: { hide: true } }, async (_req, reply) => send(reply, 200, page(register, key, {}, [], true)));

    app.post(`/forms/${key}`, { schema: { hide: true } }, async (req, reply) => {
      const body = flatBody(req.body);
      try {
        await collector.submit({ point: key, body, actor: `public:${key}` });
      } catch (e) {
        if (!(e instanceof CustodianError) || (e.code !== 'invalid_fields' && e.code !== 'consent_required')) throw e;
        const problems = (e.details?.problems ?? []) as { field: string; problem: string }[];
        if (sessions) await keepDraft(req, reply, sessions, draftKey, body);
        return send(reply, 400, page(register, key, body, problems));
      }
      if (sessions) await keepDraft(req, reply, sessions, draftKey, {});
      return reply.redirect(`/forms/${key}/thanks`, 303);
    });
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

function page(register: Register, key: string, values: Record<string, string>, problems: { field: string; problem: string }[], thanks = false): string {
  const point = register.collection[key]!;
  const title = pickText(point.title, register.notice.language);
  const fields: FormField[] = Object.entries(point.fields)
    .filter(([, f]) => f.type !== 'file')
    .map(([name, f]) => ({
      name,
      id: `f-${name.replace(/[^a-z0-9-]/gi, '-')}`,
      label: f.label ? pickText(f.label, register.notice.language) : name,
      kind: INPUT_KIND[f.type],
      required: f.required,
      value: values[name] ?? '',
      error: problems.find((p) => p.field === name)?.problem ?? null,
      choices: f.choices ?? [],
      max: f.max,
      autocomplete: f.identifier === 'email' ? 'email' : f.identifier === 'phone' ? 'tel' : undefined,
    }));
  const errors = problems.map((p) => {
    const f = fields.find((x) => x.name === p.field);
    return { id: f?.id ?? 'main', label: f?.label ?? p.field, problem: p.problem };
  });
  const purposes = point.purposes.map((p) => pickText(register.purposes[p]!.title, register.notice.language)).join('; ');
  return eta.render('./public-form', {
    lang: register.notice.language,
    controllerName: register.controller.name,
    title,
    point: key,
    fields,
    errors,
    purposes,
    thanks,
  });
}

function send(reply: FastifyReply, status: number, html: string) {
  // A form page may show what someone typed (their draft, or a refused submission): never kept by a cache.
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
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
