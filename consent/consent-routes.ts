// The consent API. CONTRACT (the cookie banner, web/consent-client/, is built against it; keep it as issue 10 states):
//
//   POST /api/v1/consent   application/json
//     {visitorId | subjectId, purposes: {<purpose id>: true | false}, method?: "banner" | "gpc", gpc?: boolean,
//      language?: "en" | "de"}
//     visitorId: the banner's random id (a UUID, or 16-128 of A-Z a-z 0-9 _ -); subjectId: a Custodian id.
//     Purposes: the register's consent purposes; also, false only meaning an objection, its legitimate-interest
//     marketing/profiling purposes and UK-exempt cookie purposes.
//     A `Sec-GPC: 1` header, `gpc: true` or `method: "gpc"`: every consent purpose is recorded as refused and every
//     objectable purpose as objected, with method gpc, whatever `purposes` says (GPC is never consent).
//     → 201 {receiptId, recordedAt, purposes: {<id>: {state, method, expiresAt}}}, once committed.
//     → 400 invalid_body (details.problems) for an unknown purpose or a malformed body; nothing is stored.
//     → 404 not_found for a subjectId nobody has.
//   GET /api/v1/consent/{id}         (a visitorId or a subjectId)
//     → 200 {id, kind: "visitor" | "subject", purposes: {<id>: {state, method, since, expiresAt, receiptId,
//            noticeFingerprint, channels?}}}; state is given, refused, withdrawn, expired, objected, pending or
//            soft-opt-in (a sale whose refusal box was left unticked; not consent).
//     → 404 not_found when nothing is recorded for that id.
//   GET /api/v1/consent/receipts/{receiptId} → the ISO/IEC 27560-shaped receipt (JSON, DPV terms), as a download.
//   GET /.well-known/gpc.json → {"gpc": true, "lastUpdate": "YYYY-MM-DD"}
//   All of them answer cross-origin requests (CORS, no credentials): the banner runs on the business's own site.
//   Staff: GET /api/v1/staff/consent/{id}/proof → every event and receipt for a person or visitor (Art. 7(1)).
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { listServedVersions } from '../register/notice-versions-store.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import type { ConsentLedger } from './consent-ledger.ts';
import { gpcSignalled } from './consent-purposes.ts';
import { buildReceipt, type ReceiptContext } from './consent-receipt.ts';
import { consentProof } from './consent-proof.ts';
import { currentConsent } from './consent-state.ts';
import { receiptEventsOf } from './consent-store.ts';
import type { People } from './people.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const STATES = ['given', 'refused', 'withdrawn', 'expired', 'objected', 'pending', 'soft-opt-in'] as const;
const METHODS = ['form', 'banner', 'email-link', 'gpc', 'staff', 'privacy-centre', 'api'] as const;

const ChoiceBody = z.strictObject({
  visitorId: z.string().max(128).optional(),
  subjectId: z.string().max(64).optional(),
  purposes: z.record(z.string().max(64), z.boolean()),
  method: z.enum(['banner', 'gpc']).optional(),
  gpc: z.boolean().optional(),
  language: z.enum(['en', 'de']).optional(),
});
const Recorded = z.object({
  receiptId: z.uuid(),
  recordedAt: z.string(),
  purposes: z.record(z.string(), z.object({ state: z.enum(STATES), method: z.enum(METHODS), expiresAt: z.string().nullable() })),
});
const StateBody = z.object({
  state: z.enum(STATES),
  method: z.enum(METHODS),
  since: z.string(),
  expiresAt: z.string().nullable(),
  receiptId: z.string(),
  noticeFingerprint: z.string(),
});
const Current = z.object({
  id: z.string(),
  kind: z.enum(['visitor', 'subject']),
  purposes: z.record(z.string(), StateBody.extend({ channels: z.record(z.string(), StateBody).optional() })),
});
/** A visitor id or a Custodian id (a UUID): letters, digits, hyphens and underscores only. */
const HolderId = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/) });
const ReceiptId = z.object({ receiptId: z.uuid() });
const Gpc = z.object({ gpc: z.literal(true), lastUpdate: z.string() });

/** The banner runs on the business's site, another origin: it may call these without credentials. */
function allowCrossOrigin(reply: FastifyReply): void {
  reply.header('access-control-allow-origin', '*');
  reply.header('cross-origin-resource-policy', 'cross-origin');
}

export const consentRoutes: FastifyPluginAsync<{ ctx: AppContext; ledger: ConsentLedger; people: People; publicUrl: string }> = async (
  base,
  { ctx, ledger, people, publicUrl },
) => {
  const app = base.withTypeProvider<ZodTypeProvider>();

  const receiptContext = async (): Promise<ReceiptContext> => ({
    register: ctx.register,
    versions: new Map(
      (await listServedVersions(ctx.db)).map((v) => [v.fingerprint, { register: v.register, noticeVersion: v.noticeVersion, effective: v.effective }]),
    ),
    publicUrl,
    now: ctx.clock.now(),
  });

  app.options('/api/v1/consent', { schema: { hide: true } }, async (_req, reply) => {
    allowCrossOrigin(reply);
    reply.header('access-control-allow-methods', 'POST');
    reply.header('access-control-allow-headers', 'content-type');
    reply.header('access-control-max-age', '86400');
    return reply.code(204).send();
  });

  app.post(
    '/api/v1/consent',
    {
      schema: {
        summary: 'Record a consent choice for a visitor or a person',
        description:
          'One ledger event per purpose, under one receipt, committed before the answer. A `Sec-GPC: 1` header (or `gpc: true`) refuses every consent purpose and objects to legitimate-interest marketing and profiling, with method gpc.',
        tags: ['consent'],
        body: ChoiceBody,
        response: { 201: Recorded, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      allowCrossOrigin(reply);
      const b = req.body;
      const gpc = gpcSignalled(req.headers['sec-gpc']) || b.gpc === true || b.method === 'gpc';
      const recorded = await ledger.record({
        visitorId: b.visitorId,
        subjectId: b.subjectId,
        purposes: b.purposes,
        gpc,
        method: 'banner',
        language: b.language ?? null,
        actor: b.subjectId !== undefined ? 'public:consent-api' : 'public:banner',
      });
      const purposes = Object.fromEntries(
        Object.entries(recorded.purposes).map(([p, s]) => [p, { state: s.state, method: s.method, expiresAt: s.expiresAt?.toISOString() ?? null }]),
      );
      return reply.code(201).send({ receiptId: recorded.receiptId, recordedAt: recorded.recordedAt.toISOString(), purposes });
    },
  );

  app.get(
    '/api/v1/consent/:id',
    {
      schema: {
        summary: 'The current consent state per purpose of a visitor or a person, with dates',
        tags: ['consent'],
        params: HolderId,
        response: { 200: Current, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      allowCrossOrigin(reply);
      reply.header('cache-control', 'no-store');
      return currentConsent(ctx, people, req.params.id);
    },
  );

  app.get(
    '/api/v1/consent/receipts/:receiptId',
    {
      schema: {
        summary: 'A consent receipt (ISO/IEC 27560-shaped JSON, DPV terms), to keep',
        tags: ['consent'],
        params: ReceiptId,
        response: { 200: z.record(z.string(), z.unknown()), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      allowCrossOrigin(reply);
      const events = await receiptEventsOf(ctx.db.kysely, req.params.receiptId.toLowerCase());
      if (events.length === 0) throw new CustodianError('not_found', 'no such receipt');
      reply.header('cache-control', 'no-store');
      reply.header('content-disposition', `attachment; filename="consent-receipt-${events[0]!.receiptId}.json"`);
      return buildReceipt(events, await receiptContext());
    },
  );

  app.get(
    '/.well-known/gpc.json',
    { schema: { summary: 'Global Privacy Control support (this site honours Sec-GPC: 1)', tags: ['consent'], response: { 200: Gpc } } },
    async (_req, reply) => {
      allowCrossOrigin(reply);
      return { gpc: true as const, lastUpdate: ctx.register.notice.effective };
    },
  );

  app.get(
    '/api/v1/staff/consent/:id/proof',
    {
      preValidation: requireStaff(rolesWith('records.read')),
      schema: {
        summary: 'Proof of consent (Art. 7(1)): every event for a person or visitor, and each receipt',
        tags: ['consent'],
        params: HolderId,
        response: { 200: z.record(z.string(), z.unknown()), 404: ErrorBody },
      },
    },
    async (req) => consentProof(ctx, people, req.params.id, await receiptContext()),
  );
};
