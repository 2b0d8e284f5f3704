// The privacy centre: every right explained in plain words, a form per right that makes a rights request (the same
// intake as POST /api/v1/requests), and the page the emailed confirmation link opens. Opening that link never
// confirms anything (mail scanners open links): the person presses "Confirm", which posts the token.
// Forms are refused when the browser says they were sent from another site (Fetch Metadata), so no other site can
// make requests in a visitor's name; nothing is stored in a cookie.
import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { formatDate } from '../documents/describe-terms.ts';
import type { Language } from '../register/schema.ts';
import { CONFIRM_LINK_DAYS, confirmRequest, receiveRequest } from '../requests/request-service.ts';
import { REQUEST_TYPES, type OnBehalf, type RequestType } from '../requests/tables.ts';
import { centreStrings, RELATIONSHIPS, type CentreStrings } from './privacy-center-strings.ts';

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

const MAX_DETAILS = 5000;
const MAX_NAME = 200;
const MAX_AUTHORITY = 500;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const Email = z.string().max(254).pipe(z.email());

export interface PrivacyCenterOptions {
  readonly ctx: Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register' | 'mailer'>;
  /** The public address of this server, for the confirmation link the mail carries. */
  readonly publicUrl: string;
}

interface Problem {
  readonly id: string;
  readonly text: string;
}

type FormValues = Record<'email' | 'name' | 'details' | 'behalf' | 'theirName' | 'relationship' | 'authority', string>;

export async function privacyCenterRoutes(app: FastifyInstance, { ctx, publicUrl }: PrivacyCenterOptions): Promise<void> {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  const { register } = ctx;
  const jurisdiction = register.controller.jurisdiction;
  const langOf = (req: FastifyRequest): Language => {
    const lang = (req.query as { lang?: unknown } | undefined)?.lang;
    return lang === 'en' || lang === 'de' ? lang : register.notice.language;
  };
  const hide = { schema: { hide: true } };

  const render = (reply: FastifyReply, status: number, lang: Language, template: string, data: Record<string, unknown>) => {
    const s = centreStrings(lang);
    const html = eta.render(`./${template}`, { ...data, s, lang, controllerName: register.controller.name, other: lang === 'de' ? 'en' : 'de' });
    // A form page may show what someone typed: never kept by a cache.
    return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
  };
  /** A page of a few paragraphs; `path` is where its other-language version is (the list of rights by default). */
  const message = (
    reply: FastifyReply,
    status: number,
    lang: Language,
    page: { title: string; paragraphs: string[]; link?: { href: string; text: string }; path?: string },
  ) => render(reply, status, lang, 'privacy-center-message', { link: null, path: '/privacy-center', ...page });

  /** Every right; also the answer (404) to a right that does not exist. */
  const list = (reply: FastifyReply, status: number, lang: Language) => {
    const s = centreStrings(lang);
    const rights = REQUEST_TYPES.map((type) => ({ type, title: s.rights[type].title, what: s.rights[type].what(jurisdiction) }));
    return render(reply, status, lang, 'privacy-center', { rights, path: '/privacy-center' });
  };

  app.get('/privacy-center', hide, async (req, reply) => list(reply, 200, langOf(req)));

  app.get('/privacy-center/sent', hide, async (req, reply) => {
    const lang = langOf(req);
    const s = centreStrings(lang);
    const due = dueOf(req);
    const paragraphs = [s.sent.checkEmail(CONFIRM_LINK_DAYS)];
    if (due) paragraphs.push(s.sent.deadline(jurisdiction, formatDate(due, lang)), s.sent.extension);
    paragraphs.push(s.sent.nothingYet);
    return message(reply, 200, lang, { title: s.sent.title, paragraphs, path: `/privacy-center/sent${due ? `?due=${due}` : ''}` });
  });

  app.get('/privacy-center/confirm', hide, async (req, reply) => {
    const lang = langOf(req);
    const s = centreStrings(lang);
    const token = (req.query as { token?: unknown }).token;
    if (typeof token !== 'string' || !TOKEN.test(token)) return invalidLink(reply, lang);
    return render(reply, 200, lang, 'privacy-center-confirm', { token, title: s.confirm.title, path: `/privacy-center/confirm?token=${token}` });
  });

  app.post('/privacy-center/confirm', hide, async (req, reply) => {
    const lang = langOf(req);
    if (sentFromAnotherSite(req)) return refused(reply, lang);
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string') return invalidLink(reply, lang);
    try {
      const view = await confirmRequest(ctx, token);
      return reply.redirect(`/privacy-center/confirmed?due=${view.dueAt}&lang=${lang}`, 303);
    } catch (e) {
      if (e instanceof CustodianError && e.code === 'not_found') return invalidLink(reply, lang);
      throw e;
    }
  });

  app.get('/privacy-center/confirmed', hide, async (req, reply) => {
    const lang = langOf(req);
    const s = centreStrings(lang);
    const due = dueOf(req);
    return message(reply, 200, lang, {
      title: s.confirm.doneTitle,
      paragraphs: due ? [s.confirm.done(formatDate(due, lang)), s.confirm.extension] : [],
      link: { href: `/privacy?lang=${lang}`, text: s.noticeLink },
      path: `/privacy-center/confirmed${due ? `?due=${due}` : ''}`,
    });
  });

  app.get('/privacy-center/:right', hide, async (req, reply) => {
    const lang = langOf(req);
    const type = rightOf(req);
    if (!type) return list(reply, 404, lang);
    return form(reply, 200, lang, type, emptyValues(), []);
  });

  app.post('/privacy-center/:right', hide, async (req, reply) => {
    const lang = langOf(req);
    const type = rightOf(req);
    if (!type) return list(reply, 404, lang);
    if (sentFromAnotherSite(req)) return refused(reply, lang);
    const values = valuesOf(req.body);
    const checked = check(values, centreStrings(lang));
    if ('problems' in checked) return form(reply, 400, lang, type, values, checked.problems);
    try {
      const { request } = await receiveRequest(ctx, {
        type,
        channel: 'web',
        receivedAt: ctx.clock.now(),
        email: checked.email,
        name: checked.name,
        details: checked.details,
        onBehalf: checked.onBehalf,
        actor: 'public:privacy-centre',
        needsConfirmation: true,
        publicUrl,
      });
      return reply.redirect(`/privacy-center/sent?due=${request.dueAt}&lang=${lang}`, 303);
    } catch (e) {
      if (e instanceof CustodianError && e.code === 'rate_limited')
        return form(reply, 429, lang, type, values, [{ id: 'email', text: centreStrings(lang).problems.rateLimited }]);
      throw e;
    }
  });

  function form(reply: FastifyReply, status: number, lang: Language, type: RequestType, values: FormValues, problems: Problem[]) {
    const s = centreStrings(lang);
    const errorOf = (id: string) => problems.find((p) => p.id === id)?.text ?? null;
    return render(reply, status, lang, 'privacy-center-form', {
      type,
      title: s.rights[type].title,
      what: s.rights[type].what(jurisdiction),
      values,
      problems,
      errors: Object.fromEntries(['email', 'name', 'details', 'theirName', 'relationship', 'authority'].map((id) => [id, errorOf(id)])),
      relationships: RELATIONSHIPS.map((r) => ({ value: r, label: s.form.relationships[r] })),
      path: `/privacy-center/${type}`,
    });
  }

  function invalidLink(reply: FastifyReply, lang: Language) {
    const s = centreStrings(lang);
    return message(reply, 404, lang, {
      title: s.confirm.invalidTitle,
      paragraphs: [s.confirm.invalid(CONFIRM_LINK_DAYS)],
      link: { href: `/privacy-center?lang=${lang}`, text: s.confirm.startAgain },
    });
  }

  function refused(reply: FastifyReply, lang: Language) {
    const s = centreStrings(lang);
    return message(reply, 403, lang, { title: s.refused.title, paragraphs: [s.refused.text], link: { href: `/privacy-center?lang=${lang}`, text: s.title } });
  }
}

/** The due date a page was sent to show (a calendar date, or nothing). */
function dueOf(req: FastifyRequest): string | null {
  const due = (req.query as { due?: unknown } | undefined)?.due;
  return typeof due === 'string' && DATE.test(due) ? due : null;
}

function rightOf(req: FastifyRequest): RequestType | null {
  const right = (req.params as { right?: string }).right;
  return REQUEST_TYPES.find((t) => t === right) ?? null;
}

/**
 * A form posted from another site. Browsers say where a request came from (Sec-Fetch-Site); where one does not, a
 * foreign Origin still tells. Our pages send no referrer, so their own posts carry `Origin: null`. A client that
 * sends neither is not a browser a page could steer: it could equally call POST /api/v1/requests.
 */
function sentFromAnotherSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === 'null') return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

function emptyValues(): FormValues {
  return { email: '', name: '', details: '', behalf: '', theirName: '', relationship: '', authority: '' };
}

/** Form fields arrive as strings; anything else (repeated fields, a JSON body) is ignored, as a browser never sends it. */
function valuesOf(body: unknown): FormValues {
  const values = emptyValues();
  if (!body || typeof body !== 'object') return values;
  for (const key of Object.keys(values) as (keyof FormValues)[]) {
    const v = Object.hasOwn(body, key) ? (body as Record<string, unknown>)[key] : undefined;
    if (typeof v === 'string') values[key] = v;
  }
  return values;
}

interface Checked {
  readonly email: string;
  readonly name: string | null;
  readonly details: string | null;
  readonly onBehalf: OnBehalf | null;
}

/** The form's rules, in the visitor's language; the same limits as POST /api/v1/requests. */
function check(v: FormValues, s: CentreStrings): Checked | { problems: Problem[] } {
  const problems: Problem[] = [];
  const email = v.email.trim();
  if (!email) problems.push({ id: 'email', text: s.problems.emailMissing });
  else if (!Email.safeParse(email).success) problems.push({ id: 'email', text: s.problems.emailInvalid });
  const name = v.name.trim();
  if (name.length > MAX_NAME) problems.push({ id: 'name', text: s.problems.tooLong(MAX_NAME) });
  if (v.details.length > MAX_DETAILS) problems.push({ id: 'details', text: s.problems.tooLong(MAX_DETAILS) });
  const behalf = v.behalf === 'yes';
  let onBehalf: OnBehalf | null = null;
  const theirName = v.theirName.trim();
  if (behalf) {
    const relationship = RELATIONSHIPS.find((r) => r === v.relationship);
    const authority = v.authority.trim();
    if (!name) problems.push({ id: 'name', text: s.problems.yourNameNeeded });
    if (!theirName) problems.push({ id: 'theirName', text: s.problems.theirNameMissing });
    else if (theirName.length > MAX_NAME) problems.push({ id: 'theirName', text: s.problems.tooLong(MAX_NAME) });
    if (!relationship) problems.push({ id: 'relationship', text: s.problems.relationshipMissing });
    if (authority.length < 3) problems.push({ id: 'authority', text: s.problems.authorityMissing });
    else if (authority.length > MAX_AUTHORITY) problems.push({ id: 'authority', text: s.problems.tooLong(MAX_AUTHORITY) });
    if (relationship) onBehalf = { name, relationship, authority };
  }
  if (problems.length > 0) return { problems };
  // The request's name is always the person it is about; whoever asks for someone else is named in onBehalf.
  return { email, name: (behalf ? theirName : name) || null, details: v.details.trim() || null, onBehalf };
}
