// Console pages for rights requests: the queue (soonest due first, overdue and due-soon flags, a chart of open
// requests by week due), recording a request that came by email, letter, phone or in person, and one request's page
// with everything about it and a form for each step (verify, ask for identity, pause and resume, extend, link a
// person, close) and for fulfilling it per type (request-fulfil.ts). People are linked one by one by staff: a shared
// email is not an identity, so people found by the requester's email are only suggestions. Viewing and recording need
// requests.record; every step requests.manage.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { receivedInstant } from '../core/received-instant.ts';
import { CustodianError } from '../core/errors.ts';
import { parseInput } from '../core/framework-errors.ts';
import { UUID_PATTERN } from '../core/ids.ts';
import { buildAccessAnswer } from '../requests/access-answer.ts';
import { listRequestViews } from '../requests/request-queue.ts';
import {
  askForIdentity,
  closeRequest,
  extendRequest,
  linkRequestSubject,
  pauseRequest,
  receiveRequest,
  recordVerification,
  resumeRequest,
  rulesOf,
  showRequest,
  type RequestView,
} from '../requests/request-service.ts';
import { localDate } from '../requests/statutory-clock.ts';
import { OUTCOMES, REQUEST_TYPES, type OnBehalf, type Outcome, type RequestType, type Verification } from '../requests/tables.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { can, rolesWith } from '../staff/roles.ts';
import { wantsHtml } from '../staff/staff-runtime.ts';
import { findPeople } from '../subjects/find-people.ts';
import { consolePageContext, sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';
import { kindTitle } from './people-routes.ts';
import { weeklyChart } from './request-chart.ts';
import { type ActionResult, describeAnswer, doneText, fulfilActions, fulfilPageData } from './request-fulfil.ts';

const TYPE_LABELS: Record<RequestType, string> = {
  access: 'Access (a copy)',
  rectification: 'Rectification',
  erasure: 'Erasure',
  restriction: 'Restriction',
  objection: 'Objection',
  portability: 'Portability',
  'withdraw-consent': 'Withdraw consent',
  complaint: 'Complaint',
};
const STAFF_CHANNELS = { email: 'Email', post: 'Letter', phone: 'Phone', 'in-person': 'In person' } as const;
const CHANNEL_LABELS: Record<RequestView['channel'], string> = { web: 'Privacy centre', ...STAFF_CHANNELS };
const RELATIONSHIPS = ['parent', 'guardian', 'carer', 'attorney', 'solicitor', 'insurer', 'other'] as const;
const METHODS: Record<Verification['method'], string> = {
  'email-link': 'Confirmed from their mailbox (emailed link)',
  'signed-in': 'Signed in to their account',
  'document-seen': 'Identity document seen',
  'known-to-staff': 'Known to staff',
  'call-back': 'Called back on a number we already held',
};
const STAFF_METHODS = ['document-seen', 'known-to-staff', 'call-back', 'signed-in'] as const;
const OUTCOME_LABELS: Record<Outcome, string> = {
  done: 'Done',
  'partly-done': 'Partly done',
  refused: 'Refused',
  'nothing-held': 'Nothing held about them',
};
const STATUS_LABELS: Record<RequestView['status'], string> = {
  unconfirmed: 'Waiting for the requester to confirm by email',
  open: 'Open',
  completed: 'Completed',
  refused: 'Refused',
  withdrawn: 'Withdrawn',
  expired: 'Expired (never confirmed)',
};
const DONE: Record<string, string> = {
  created: 'The request is recorded.',
  verify: 'The identity check is recorded.',
  'ask-identity': 'Recorded that proof of identity was asked for.',
  pause: 'The clock is paused.',
  resume: 'The clock runs again; the paused days are added to the deadline.',
  extend: 'The deadline is extended.',
  link: 'The person is linked to this request.',
  close: 'The request is closed.',
};

const Params = z.object({ id: z.string().regex(UUID_PATTERN, 'is not a request id') });
const QueueQuery = z.object({ status: z.enum(['open', 'closed']).default('open') });
const ShowQuery = z.object({
  find: z.literal('1').optional(),
  done: z.string().max(20).optional(),
  // What a step did, for the page to say it (numbers and purpose keys; checked again before they are shown).
  n: z.string().max(8).optional(),
  erased: z.string().max(8).optional(),
  stopped: z.string().max(2000).optional(),
  continued: z.string().max(2000).optional(),
});

type Form = Record<string, string>;
interface FormError {
  readonly field?: string;
  readonly text: string;
}

export function requestsRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const publicUrl = scope.publicUrl ?? 'http://localhost:8080';
  const { register } = ctx;
  const actorOf = (req: FastifyRequest) => staffActor(req.staff?.userId ?? 'unknown');
  const today = () => localDate(rulesOf(register), ctx.clock.now());
  const view = { schema: { hide: true }, preValidation: requireStaff(rolesWith('requests.record')) };
  const manage = { schema: { hide: true }, preValidation: requireStaff(rolesWith('requests.manage')) };

  app.get('/console/requests', view, async (req, reply) => {
    const { status } = parseInput(QueueQuery, req.query, 'invalid_query');
    const views = await listRequestViews(ctx, status);
    const rows = views.map((v) => ({
      id: v.id,
      type: TYPE_LABELS[v.type],
      channel: CHANNEL_LABELS[v.channel],
      receivedOn: v.receivedOn,
      dueAt: v.dueAt,
      daysLeft: v.daysLeft,
      flag: v.flag,
      unconfirmed: v.status === 'unconfirmed',
      awaitingIdentity: v.awaitingIdentity,
      paused: v.pauses.some((p) => p.to === null),
      duplicateOf: v.duplicateOf,
      outcome: v.outcome ? OUTCOME_LABELS[v.outcome] : null,
      closedOn: v.closedAt?.slice(0, 10) ?? null,
    }));
    return sendPage(req, reply, controllerName, 'Rights requests', 'requests', {
      status,
      rows,
      overdue: rows.filter((r) => r.flag === 'overdue').length,
      dueSoon: rows.filter((r) => r.flag === 'due-soon').length,
      chart:
        status === 'open'
          ? weeklyChart(
              views.map((v) => v.dueAt),
              today(),
            )
          : null,
    });
  });

  const newPage = (req: FastifyRequest, reply: FastifyReply, status: number, values: Form, errors: FormError[]) =>
    sendPage(req, reply.code(status), controllerName, 'Record a request', 'requests-new', {
      values: { type: '', channel: '', receivedOn: today(), ...values },
      errors,
      invalid: errors.map((e) => e.field),
      types: REQUEST_TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] })),
      channels: Object.entries(STAFF_CHANNELS).map(([value, label]) => ({ value, label })),
      relationships: RELATIONSHIPS,
      methods: STAFF_METHODS.map((m) => ({ value: m, label: METHODS[m] })),
      today: today(),
      csrfToken: consolePageContext(req, controllerName).csrfToken,
    });

  app.get('/console/requests/new', view, async (req, reply) => newPage(req, reply, 200, {}, []));

  app.post('/console/requests/new', view, async (req, reply) => {
    const f = formOf(req.body);
    const errors: FormError[] = [];
    const type = REQUEST_TYPES.find((t) => t === f.type);
    if (!type) errors.push({ field: 'type', text: 'Choose which right the request is about' });
    const channel = (Object.keys(STAFF_CHANNELS) as (keyof typeof STAFF_CHANNELS)[]).find((c) => c === f.channel);
    if (!channel) errors.push({ field: 'channel', text: 'Choose how the request came in' });
    const receivedOn = (f.receivedOn ?? '').trim();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(receivedOn)) errors.push({ field: 'receivedOn', text: 'Give the date it was received, as YYYY-MM-DD' });
    else if (receivedOn > today()) errors.push({ field: 'receivedOn', text: 'The date received cannot be in the future' });
    const email = (f.email ?? '').trim();
    if (email && !z.email().safeParse(email).success) errors.push({ field: 'email', text: 'The email address is not valid' });
    const onBehalf = onBehalfOf(f, errors);
    const method = STAFF_METHODS.find((m) => m === f.method);
    if (errors.length > 0 || !type || !channel) return newPage(req, reply, 400, f, errors);
    const actor = actorOf(req);
    try {
      const { request } = await receiveRequest(ctx, {
        type,
        channel,
        receivedAt: receivedInstant(receivedOn, ctx.clock.now()),
        email: email || null,
        name: f.name?.trim() || null,
        details: f.details?.trim() || null,
        onBehalf,
        actor,
        needsConfirmation: false,
        verification: method ? { method, seen: f.seen?.trim() || null, by: actor, at: ctx.clock.now().toISOString() } : null,
      });
      return reply.redirect(`/console/requests/${request.id}?done=created`, 303);
    } catch (e) {
      if (e instanceof CustodianError && e.status < 500 && wantsHtml(req)) return newPage(req, reply, e.status, f, [{ text: e.message }]);
      throw e;
    }
  });

  const showPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    id: string,
    status: number,
    errors: FormError[],
    form: Form = {},
    preview: ReturnType<typeof describeAnswer> | null = null,
  ) => {
    const query = parseInput(ShowQuery, req.query, 'invalid_query');
    const r = await showRequest(ctx, id);
    const role = req.staff?.role ?? 'auditor';
    const canManage = can(role, 'requests.manage');
    const email = r.contact?.email ?? null;
    // Only when staff ask, and only as suggestions: the search is audited, and nobody is linked by it.
    const candidates =
      query.find && email && can(role, 'records.read')
        ? (await findPeople(ctx, email, actorOf(req)))
            .filter((m) => !r.subjects.includes(m.mergedInto ?? m.id))
            .map((m) => ({ id: m.mergedInto ?? m.id, kind: kindTitle(register, m.kind), matchedBy: m.matchedBy }))
        : null;
    const open = r.status === 'open' || r.status === 'unconfirmed';
    const isManager = can(role, 'requests.manage');
    const fulfil = await fulfilPageData(ctx, r, { canManage: isManager && r.status === 'open', isManager, actor: actorOf(req) });
    const done = query.done && Object.hasOwn(DONE, query.done) ? DONE[query.done] : query.done ? doneText(ctx, query.done, query) : null;
    return sendPage(req, reply.code(status), controllerName, `${TYPE_LABELS[r.type]} request`, 'request', {
      r,
      type: TYPE_LABELS[r.type],
      channel: CHANNEL_LABELS[r.channel],
      status: STATUS_LABELS[r.status],
      outcome: r.outcome ? OUTCOME_LABELS[r.outcome] : null,
      verification: r.verification ? { ...r.verification, method: METHODS[r.verification.method] ?? r.verification.method } : null,
      paused: r.pauses.some((p) => p.to === null),
      candidates,
      done,
      fulfil,
      preview,
      isManager,
      canFulfil: isManager && r.status === 'open',
      errors,
      form,
      open,
      canManage: canManage && open,
      canPause: r.jurisdiction === 'uk' && r.type === 'access',
      today: today(),
      methods: STAFF_METHODS.map((m) => ({ value: m, label: METHODS[m] })),
      outcomes: OUTCOMES.map((o) => ({ value: o, label: OUTCOME_LABELS[o] })),
      csrfToken: consolePageContext(req, controllerName).csrfToken,
    });
  };

  app.get('/console/requests/:id', view, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    return showPage(req, reply, id.toLowerCase(), 200, []);
  });

  /**
   * One step on a request: run it, then back to the page (with what it did, when it says); a refusal (400, 404
   * person, 409) shows on the page.
   */
  const action = (name: string, run: (id: string, f: Form, actor: string) => Promise<unknown>) =>
    app.post(`/console/requests/:id/${name}`, manage, async (req, reply) => {
      const { id } = parseInput(Params, req.params, 'invalid_params');
      const f = formOf(req.body);
      let result: unknown;
      try {
        result = await run(id.toLowerCase(), f, actorOf(req));
      } catch (e) {
        // A missing request is still a 404 page: showPage throws it.
        if (e instanceof CustodianError && e.status < 500 && wantsHtml(req))
          return showPage(req, reply, id.toLowerCase(), e.status, [{ field: `${name}-form`, text: e.message }], f);
        throw e;
      }
      const said = isSaid(result) ? `&${new URLSearchParams(result.say)}` : '';
      return reply.redirect(`/console/requests/${id.toLowerCase()}?done=${name}${said}`, 303);
    });

  // The access answer as it would be issued now: sealed values are opened for it and the opening is audited, so it
  // is a post with the CSRF token (like revealing a person's sealed values), never a link.
  app.post('/console/requests/:id/preview', manage, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    try {
      const answer = await buildAccessAnswer(ctx, id.toLowerCase(), { actor: actorOf(req) });
      reply.header('cache-control', 'no-store');
      return await showPage(req, reply, id.toLowerCase(), 200, [], {}, describeAnswer(answer));
    } catch (e) {
      if (e instanceof CustodianError && e.status < 500 && e.code !== 'not_found' && wantsHtml(req))
        return showPage(req, reply, id.toLowerCase(), e.status, [{ field: 'preview-form', text: e.message }]);
      throw e;
    }
  });

  const date = (value: string | undefined) => (value?.trim() ? { value: value.trim() } : null);
  action('verify', (id, f, actor) => {
    const method = STAFF_METHODS.find((m) => m === f.method);
    if (!method) throw new CustodianError('invalid_body', 'choose how the identity was checked');
    const on = date(f.receivedOn);
    return recordVerification(ctx, id, { method, seen: f.seen?.trim() || null, actor, ...(on ? { receivedOn: on.value } : {}) });
  });
  action('ask-identity', (id, f, actor) => {
    const on = date(f.askedOn);
    return askForIdentity(ctx, id, { actor, ...(on ? { askedOn: on.value } : {}) });
  });
  action('pause', (id, f, actor) => {
    const on = date(f.from);
    return pauseRequest(ctx, id, { justification: f.justification ?? '', actor, ...(on ? { from: on.value } : {}) });
  });
  action('resume', (id, f, actor) => {
    const on = date(f.to);
    return resumeRequest(ctx, id, { actor, ...(on ? { to: on.value } : {}) });
  });
  action('extend', (id, f, actor) => {
    const months = f.months === '1' ? 1 : f.months === '2' ? 2 : null;
    if (!months) throw new CustodianError('invalid_body', 'extend by 1 or 2 months');
    const on = date(f.toldOn);
    return extendRequest(ctx, id, { months, reason: f.reason ?? '', actor, ...(on ? { toldOn: on.value } : {}) });
  });
  action('link', (id, f, actor) => {
    const subject = (f.subject ?? '').trim();
    if (!UUID_PATTERN.test(subject)) throw new CustodianError('invalid_body', 'give the Custodian id of the person (as shown on their page)');
    return linkRequestSubject(ctx, id, { subjectId: subject, actor });
  });
  action('close', (id, f, actor) => {
    const outcome = OUTCOMES.find((o) => o === f.outcome);
    if (!outcome) throw new CustodianError('invalid_body', 'choose the outcome');
    const reasons = (f.reasons ?? '')
      .split(/[\s,]+/)
      .map((r) => r.trim().toLowerCase())
      .filter(Boolean);
    return closeRequest(ctx, id, { outcome, reasons, actor, ...(f.message ? { message: f.message } : {}) });
  });
  fulfilActions(ctx, publicUrl, action);
}

function isSaid(result: unknown): result is NonNullable<ActionResult> {
  return typeof result === 'object' && result !== null && 'say' in result;
}

/** Form fields as strings (a repeated or odd field is left out, as a browser never sends it). */
function formOf(body: unknown): Form {
  const out: Form = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string' && k !== '_csrf' && k !== '__proto__') out[k] = v;
  return out;
}

function onBehalfOf(f: Form, errors: FormError[]): OnBehalf | null {
  if (f.behalf !== 'yes') return null;
  const name = (f.behalfName ?? '').trim();
  const relationship = RELATIONSHIPS.find((r) => r === f.relationship);
  const authority = (f.authority ?? '').trim();
  if (!name) errors.push({ field: 'behalfName', text: 'Give the name of who is asking for someone else' });
  if (!relationship) errors.push({ field: 'relationship', text: 'Choose their relationship to the person' });
  if (authority.length < 3) errors.push({ field: 'authority', text: 'Say what authority they have, or showed' });
  return name && relationship && authority.length >= 3 ? { name, relationship, authority } : null;
}
