// The rights-request API. Anyone may make a request (POST /api/v1/requests): it is confirmed from the mailbox
// before anyone acts on it. Staff record requests that came by letter, email or phone, read them, and move them
// along (/api/v1/staff/requests/...). Every route is in /openapi.json.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import { receivedInstant } from '../core/received-instant.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import {
  askForIdentity,
  closeRequest,
  extendRequest,
  linkRequestSubject,
  pauseRequest,
  receiveRequest,
  recordVerification,
  resumeRequest,
  showRequest,
  type RequestView,
} from './request-service.ts';
import { buildAccessAnswer } from './access-answer.ts';
import { fulfilErasure, issueAccessAnswer, recordHealthOpinion } from './fulfil.ts';
import {
  acknowledgeComplaint,
  completeNotice,
  liftRestriction,
  objectForRequest,
  rectifyRecord,
  restrictForRequest,
  withdrawConsentForRequest,
} from './fulfil-rights.ts';
import { requestEvidence } from './evidence.ts';
import { listRequestViews } from './request-queue.ts';
import { OUTCOMES, REQUEST_CHANNELS, REQUEST_TYPES } from './tables.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const Created = z.object({ id: z.uuid(), type: z.enum(REQUEST_TYPES), receivedAt: z.string(), dueAt: z.string(), status: z.string() });
const IsoDate = z.iso.date();
const OnBehalf = z.object({
  name: z.string().trim().min(1).max(200),
  relationship: z.enum(['parent', 'guardian', 'solicitor', 'insurer', 'carer', 'attorney', 'other']),
  authority: z.string().trim().min(3).max(500),
});
const PublicBody = z.object({
  type: z.enum(REQUEST_TYPES),
  email: z.string().trim().max(254).pipe(z.email()),
  name: z.string().trim().max(200).optional(),
  details: z.string().max(5000).optional(),
  onBehalf: OnBehalf.optional(),
});
const StaffBody = z.object({
  type: z.enum(REQUEST_TYPES),
  channel: z.enum(REQUEST_CHANNELS),
  receivedAt: IsoDate.or(z.iso.datetime()),
  email: z.string().trim().max(254).pipe(z.email()).optional(),
  name: z.string().trim().max(200).optional(),
  details: z.string().max(5000).optional(),
  onBehalf: OnBehalf.optional(),
  /** Staff already know who is asking (they know the person, or saw proof): say how. */
  verified: z.object({ method: z.enum(['document-seen', 'known-to-staff', 'call-back']), seen: z.string().max(300).optional() }).optional(),
});
const Id = z.object({ id: z.uuid() });
const VerificationBody = z.object({ method: z.string(), seen: z.string().nullable(), by: z.string(), at: z.string() });
const RequestBody = z.object({
  id: z.uuid(),
  type: z.enum(REQUEST_TYPES),
  status: z.string(),
  channel: z.enum(REQUEST_CHANNELS),
  jurisdiction: z.enum(['uk', 'eu']),
  receivedAt: z.string(),
  receivedOn: z.string().describe("the date received, in the controller's calendar"),
  dueAt: z.string().describe("the statutory deadline, YYYY-MM-DD in the controller's calendar"),
  daysLeft: z.number().int(),
  flag: z.enum(['overdue', 'due-soon', 'on-time', 'closed']),
  awaitingIdentity: z.boolean().describe('proof of identity was asked for and has not arrived (UK: the clock has not started)'),
  relevantOn: z.string(),
  pauses: z.array(z.object({ from: z.string(), to: z.string().nullable(), justification: z.string() })),
  extension: z.object({ months: z.number(), reason: z.string().nullable(), toldOn: z.string().nullable(), noticeBy: z.string() }).nullable(),
  contact: z.object({ email: z.string().nullable(), name: z.string().nullable() }).nullable(),
  details: z.string().nullable(),
  onBehalf: OnBehalf.nullable(),
  duplicateOf: z.uuid().nullable(),
  verification: VerificationBody.nullable(),
  subjects: z.array(z.uuid()),
  acknowledgedOn: z.string().nullable(),
  recipientNotices: z.array(z.object({ id: z.uuid(), recipient: z.string(), change: z.string(), state: z.string(), records: z.number().int() })),
  outcome: z.enum(OUTCOMES).nullable(),
  outcomeReasons: z.array(z.string()),
  closedAt: z.string().nullable(),
});

function created(view: RequestView) {
  return { id: view.id, type: view.type, receivedAt: view.receivedAt, dueAt: view.dueAt, status: view.status };
}

export interface RequestsRoutesOptions {
  readonly ctx: Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register' | 'mailer' | 'subjectKeys'>;
  /** The public address of this server, for the links mails carry. */
  readonly publicUrl: string;
}

export const requestsRoutes: FastifyPluginAsync<RequestsRoutesOptions> = async (base, { ctx, publicUrl }) => {
  // A browser's form post reaches the staff guard (and its 303 to sign-in) rather than a 415.
  await base.register(formbody, { bodyLimit: 64 * 1024 });
  const app = base.withTypeProvider<ZodTypeProvider>();
  const actorOf = (req: { staff?: { userId: string } | null }) => staffActor(req.staff?.userId ?? 'unknown');

  app.post(
    '/api/v1/requests',
    {
      schema: {
        summary: 'Make a rights request (access, rectification, erasure, restriction, objection, portability, withdraw consent, complaint)',
        description:
          'The request is stored as unconfirmed and a one-time confirmation link is emailed to the address given; nothing is done until it is confirmed. `dueAt` is the statutory deadline in the controller\'s calendar (UK: it may move once the mailbox is confirmed, the "relevant time").',
        tags: ['requests'],
        body: PublicBody,
        response: { 201: Created, 400: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const received = await receiveRequest(ctx, {
        type: req.body.type,
        channel: 'web',
        receivedAt: ctx.clock.now(),
        email: req.body.email,
        name: req.body.name ?? null,
        details: req.body.details ?? null,
        onBehalf: req.body.onBehalf ?? null,
        actor: 'public:privacy-centre',
        needsConfirmation: true,
        publicUrl,
      });
      return reply.code(201).send(created(received.request));
    },
  );

  const staffRead = requireStaff(rolesWith('requests.record'));
  const manage = requireStaff(rolesWith('requests.manage'));

  app.get(
    '/api/v1/requests/:id',
    {
      preValidation: staffRead,
      schema: { summary: 'One rights request (staff)', tags: ['requests', 'staff'], params: Id, response: { 200: RequestBody, 404: ErrorBody } },
    },
    async (req) => showRequest(ctx, req.params.id),
  );

  app.get(
    '/api/v1/staff/requests',
    {
      preValidation: staffRead,
      schema: {
        summary: 'Open rights requests, soonest due first (staff)',
        tags: ['requests', 'staff'],
        querystring: z.object({ status: z.enum(['open', 'closed', 'all']).default('open') }),
        response: { 200: z.object({ requests: z.array(RequestBody) }) },
      },
    },
    async (req) => ({ requests: await listRequestViews(ctx, req.query.status) }),
  );

  app.post(
    '/api/v1/staff/requests',
    {
      preValidation: staffRead,
      schema: {
        summary: 'Record a rights request received by email, letter, phone or in person (staff)',
        description:
          "The clock runs from `receivedAt` (a date in the controller's calendar, or an instant). A request made for someone else records who asks and on what authority.",
        tags: ['requests', 'staff'],
        body: StaffBody,
        response: { 201: Created, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const received = await receiveRequest(ctx, {
        type: b.type,
        channel: b.channel,
        receivedAt: receivedInstant(b.receivedAt, ctx.clock.now()),
        email: b.email ?? null,
        name: b.name ?? null,
        details: b.details ?? null,
        onBehalf: b.onBehalf ?? null,
        actor: actorOf(req),
        needsConfirmation: false,
        verification: b.verified ? { method: b.verified.method, seen: b.verified.seen ?? null, by: actorOf(req), at: ctx.clock.now().toISOString() } : null,
      });
      return reply.code(201).send(created(received.request));
    },
  );

  /** The route options of a staff step on one request (POST /api/v1/staff/requests/{id}/{path}), answered as `answer`. */
  const stepOptions = <B extends z.ZodType, A extends z.ZodType>(summary: string, body: B, answer: A) => ({
    preValidation: manage,
    schema: {
      summary: `${summary} (staff)`,
      tags: ['requests', 'staff'],
      params: Id,
      body,
      response: { 200: answer, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
    },
  });
  const action = <B extends z.ZodType>(path: string, summary: string, body: B, run: (id: string, body: z.infer<B>, actor: string) => Promise<RequestView>) =>
    app.post(`/api/v1/staff/requests/:id/${path}`, stepOptions(summary, body, RequestBody), async (req) =>
      run(req.params.id, req.body as z.infer<B>, actorOf(req)),
    );

  action(
    'verify',
    "Record how the requester's identity was checked (what was seen, never a copy)",
    z.object({
      method: z.enum(['document-seen', 'known-to-staff', 'call-back', 'signed-in']),
      seen: z.string().max(300).optional(),
      receivedOn: IsoDate.optional(),
    }),
    (id, b, actor) => recordVerification(ctx, id, { method: b.method, seen: b.seen ?? null, actor, ...(b.receivedOn ? { receivedOn: b.receivedOn } : {}) }),
  );
  action(
    'ask-identity',
    'Record that proof of identity was asked for (UK: the clock starts when it arrives)',
    z.object({ askedOn: IsoDate.optional() }),
    (id, b, actor) => askForIdentity(ctx, id, { actor, ...(b.askedOn ? { askedOn: b.askedOn } : {}) }),
  );
  action(
    'pause',
    'Pause the clock of a UK access request while a clarification is awaited',
    z.object({ from: IsoDate.optional(), justification: z.string().max(1000) }),
    (id, b, actor) => pauseRequest(ctx, id, { justification: b.justification, actor, ...(b.from ? { from: b.from } : {}) }),
  );
  action('resume', 'The clarification arrived: restart the clock', z.object({ to: IsoDate.optional() }), (id, b, actor) =>
    resumeRequest(ctx, id, { actor, ...(b.to ? { to: b.to } : {}) }),
  );
  action(
    'extend',
    'Extend the deadline by up to two further months (the requester told, with reasons, within the first month)',
    z.object({ months: z.union([z.literal(1), z.literal(2)]), reason: z.string().max(1000), toldOn: IsoDate.optional() }),
    (id, b, actor) => extendRequest(ctx, id, { months: b.months, reason: b.reason, actor, ...(b.toldOn ? { toldOn: b.toldOn } : {}) }),
  );
  action('link', 'Confirm a person this request is about', z.object({ subject: z.uuid() }), (id, b, actor) =>
    linkRequestSubject(ctx, id, { subjectId: b.subject, actor }),
  );
  action(
    'close',
    'Close the request with its outcome (reason codes; a refusal needs them)',
    z.object({ outcome: z.enum(OUTCOMES), reasons: z.array(z.string().max(64)).max(20).default([]), message: z.string().max(5000).optional() }),
    (id, b, actor) => closeRequest(ctx, id, { outcome: b.outcome, reasons: b.reasons, actor, ...(b.message ? { message: b.message } : {}) }),
  );

  app.post(
    '/api/v1/staff/requests/:id/health-opinion',
    {
      preValidation: manage,
      schema: {
        summary: "Record an appropriate health professional's opinion on releasing health data in the answer (staff)",
        description:
          'UK DPA 2018 Sch. 3 Part 2: where the controller is not itself a health professional, health records go into an access answer only with an opinion given within the last six months (or when the person supplied them).',
        tags: ['requests', 'staff'],
        params: Id,
        body: z.object({ professional: z.string().max(200), givenOn: IsoDate, decision: z.enum(['release', 'withhold']) }),
        response: { 204: z.null(), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      await recordHealthOpinion(ctx, req.params.id, { ...req.body, actor: actorOf(req) });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/staff/requests/:id/answer',
    {
      preValidation: manage,
      schema: {
        summary:
          'Preview the access answer: the data of the people linked to the request and every Art. 15 item (staff; sealed values opened, the opening audited)',
        tags: ['requests', 'staff'],
        params: Id,
        response: { 200: z.unknown().describe('the answer: records with values, and each Art. 15 item'), 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => buildAccessAnswer(ctx, req.params.id.toLowerCase(), { actor: actorOf(req) }),
  );

  app.post(
    '/api/v1/staff/requests/:id/answer',
    {
      preValidation: manage,
      schema: {
        summary: 'Issue the access answer: decisions per record kept, an expiring link emailed to the requester, the request closed (staff)',
        tags: ['requests', 'staff'],
        params: Id,
        response: { 200: z.object({ expiresAt: z.string(), records: z.number().int(), withheld: z.number().int() }), 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const issued = await issueAccessAnswer(ctx, req.params.id, { actor: actorOf(req), publicUrl });
      return { expiresAt: issued.expiresAt, records: issued.answer.records.length, withheld: issued.answer.withheldCount };
    },
  );

  app.post(
    '/api/v1/staff/requests/:id/erase',
    {
      preValidation: manage,
      schema: {
        summary: 'Fulfil an erasure request: each record erased, or kept and restricted with its reason (staff)',
        description:
          'Records a purpose keeps under a legal obligation (clinical records) or for legal claims are kept and restricted (Art. 17(3)); staff may keep more for a dispute. A person with nothing kept has their data key destroyed and identifiers retired.',
        tags: ['requests', 'staff'],
        params: Id,
        body: z.object({
          keep: z
            .array(z.object({ record: z.uuid(), reason: z.enum(['legal-claims', 'dispute']) }))
            .max(10_000)
            .default([]),
        }),
        response: {
          200: z.object({
            erased: z.number().int(),
            kept: z.array(z.object({ recordId: z.string(), reason: z.string() })),
            shredded: z.array(z.string()),
            requestKeptUntil: z.string().describe('the request (who asked) is kept as evidence until then'),
          }),
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req) => {
      const outcome = await fulfilErasure(ctx, req.params.id, {
        actor: actorOf(req),
        keep: req.body.keep.map((k) => ({ recordId: k.record, reason: k.reason })),
      });
      return { erased: outcome.erased, kept: [...outcome.kept], shredded: [...outcome.shredded], requestKeptUntil: outcome.requestKeptUntil };
    },
  );

  const done = z.object({ ok: z.literal(true) }).passthrough();
  const fulfil = <B extends z.ZodType>(
    path: string,
    summary: string,
    body: B,
    run: (id: string, body: z.infer<B>, actor: string) => Promise<Record<string, unknown>>,
  ) =>
    app.post(`/api/v1/staff/requests/:id/${path}`, stepOptions(summary, body, done), async (req) => ({
      ok: true as const,
      ...(await run(req.params.id, req.body as z.infer<B>, actorOf(req))),
    }));

  fulfil(
    'rectify',
    'Correct one record of the people a rectification request is about (the trail keeps keyed hashes, never values)',
    z.object({ record: z.uuid(), value: z.string().max(5000) }),
    async (id, b, actor) => {
      await rectifyRecord(ctx, id, { recordId: b.record, value: b.value, actor });
      return {};
    },
  );
  fulfil(
    'restrict',
    "Restrict records (all the people's live records when none are named): stored only, never disclosed",
    z.object({ records: z.array(z.uuid()).max(10_000).optional() }),
    async (id, b, actor) => ({
      restricted: await restrictForRequest(ctx, id, { actor, ...(b.records ? { recordIds: b.records } : {}) }),
    }),
  );
  fulfil(
    'lift-restriction',
    'Lift the restriction made for this request: the person is emailed first, with the reason',
    z.object({ reason: z.string().max(1000) }),
    async (id, b, actor) => ({
      lifted: await liftRestriction(ctx, id, { reason: b.reason, actor }),
    }),
  );
  fulfil(
    'object',
    'Uphold an objection: direct marketing stops at once; legitimate-interest processing stops unless compelling grounds are recorded per purpose',
    z.object({
      purposes: z.array(z.string().max(100)).max(100).optional(),
      compellingGrounds: z
        .array(z.object({ purpose: z.string().max(100), reason: z.string().max(1000) }))
        .max(100)
        .optional(),
    }),
    async (id, b, actor) =>
      objectForRequest(ctx, id, {
        actor,
        ...(b.purposes ? { purposes: b.purposes } : {}),
        ...(b.compellingGrounds ? { compellingGrounds: b.compellingGrounds } : {}),
      }) as unknown as Record<string, unknown>,
  );
  fulfil(
    'withdraw-consent',
    'Withdraw the consents given (all, or the purposes named); what was held for nothing else is erased',
    z.object({ purposes: z.array(z.string().max(100)).max(100).optional() }),
    async (id, b, actor) =>
      withdrawConsentForRequest(ctx, id, { actor, ...(b.purposes ? { purposes: b.purposes } : {}) }) as unknown as Record<string, unknown>,
  );
  fulfil('acknowledge', 'Acknowledge a complaint (due within 30 days of receipt); the complainant is emailed', z.object({}), async (id, _b, actor) => ({
    acknowledgedOn: await acknowledgeComplaint(ctx, id, { actor }),
  }));
  app.post(
    '/api/v1/staff/requests/:id/notices/:notice',
    {
      preValidation: manage,
      schema: {
        summary: 'Record an Art. 19 notice to a recipient as done, or impossible with the reason (staff)',
        tags: ['requests', 'staff'],
        params: z.object({ id: z.uuid(), notice: z.uuid() }),
        body: z.object({ state: z.enum(['done', 'impossible']), reason: z.string().max(1000).optional() }),
        response: { 204: z.null(), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      await completeNotice(ctx, req.params.id, {
        noticeId: req.params.notice,
        state: req.body.state,
        actor: actorOf(req),
        ...(req.body.reason ? { reason: req.body.reason } : {}),
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/staff/requests/:id/evidence',
    {
      preValidation: manage,
      schema: {
        summary: 'The evidence of how a request was handled: decisions per record, notices, its audit events and the checkpoint that covers them (staff)',
        tags: ['requests', 'staff'],
        params: Id,
        response: { 200: z.unknown(), 404: ErrorBody },
      },
    },
    async (req) => requestEvidence(ctx, req.params.id),
  );
};
