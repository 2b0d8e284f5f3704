// The audit log in the console, filtered and paged, and the verification of the whole trail. Read-only: auditors
// (who never see personal data) may use both.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUDIT_ACTIONS } from '../audit/actions.ts';
import { queryAuditLog } from '../audit/query-audit-log.ts';
import { verifyTrail } from '../audit/verify-trail.ts';
import { parseInput } from '../core/framework-errors.ts';
import { staffActor } from '../staff/actor.ts';
import { reconcileConsentLedger } from '../consent/reconcile-ledger.ts';
import { reconcileRecords } from '../subjects/reconcile-records.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';
import { type VerifyRun, VerifyRuns } from './verify-runs.ts';

// An empty field (a filter form sent with a box left blank) is no filter.
const blank = (v: unknown) => (v === '' ? undefined : v);
const VerifyQuery = z.object({ run: z.literal('1').optional() });
const AuditQuery = z.object({
  subject: z.preprocess(blank, z.uuid('is not a Custodian id').optional()),
  actor: z.preprocess(blank, z.string().max(200).optional()),
  action: z.preprocess(blank, z.enum(AUDIT_ACTIONS, 'is not an audit action').optional()),
  from: z.preprocess(blank, z.iso.date('is not a date written YYYY-MM-DD').optional()),
  to: z.preprocess(blank, z.iso.date('is not a date written YYYY-MM-DD').optional()),
  before: z.preprocess(blank, z.string().max(200).optional()),
});

export function auditRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const runs = new VerifyRuns(
    (onProgress) =>
      verifyTrail(ctx.db, ctx.auditor, {
        onProgress: (p) => onProgress(p.events),
        vouchesFor: async () => [...(await reconcileRecords(ctx.db)), ...(await reconcileConsentLedger(ctx.db))],
      }),
    ctx.clock,
  );

  const auditPage = async (req: FastifyRequest, reply: FastifyReply, verify: VerifyRun | null) => {
    const q = parseInput(AuditQuery, req.query, 'invalid_query');
    const action = q.action;
    const day = (s: string | undefined) => (s ? new Date(`${s}T00:00:00Z`) : undefined);
    const from = day(q.from);
    const to = day(q.to);
    const result = await queryAuditLog(ctx.db, {
      limit: 100,
      ...(q.subject ? { subjectId: q.subject.toLowerCase() } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(action ? { action } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to: new Date(to.getTime() + 86_400_000) } : {}),
      ...(q.before ? { before: q.before } : {}),
    });
    const events = result.events.map((e) => ({
      at: e.at.toISOString().replace('T', ' ').slice(0, 19),
      actor: e.actor,
      action: e.action,
      subjectId: e.subjectId,
      recordCount: e.recordIds.length,
      purpose: e.purpose,
      detail: Object.entries(e.detail)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' '),
    }));
    const next = result.next ? `/console/audit?${new URLSearchParams({ ...stripEmpty(q), before: result.next }).toString()}` : null;
    const refresh = verify && verify.finishedAt === null ? 2 : undefined;
    return sendPage(
      req,
      reply,
      controllerName,
      'Audit log',
      'audit-log',
      {
        verify,
        events,
        next,
        actions: AUDIT_ACTIONS,
        filters: { subject: q.subject ?? '', actor: q.actor ?? '', action: action ?? '', from: q.from ?? '', to: q.to ?? '' },
      },
      refresh,
    );
  };

  app.get('/console/audit', { schema: { hide: true }, preValidation: requireStaff(rolesWith('audit.read')) }, (req, reply) => auditPage(req, reply, null));
  // Verifying changes nothing, so it is a GET: auditors (read-only) must be able to run it. The run goes on in the
  // background (verify-runs.ts); this page shows it, reloading itself until the verdict is in.
  app.get('/console/audit/verify', { schema: { hide: true }, preValidation: requireStaff(rolesWith('audit.read')) }, async (req, reply) => {
    const { run } = parseInput(VerifyQuery, req.query, 'invalid_query');
    if (run === '1' || !runs.current) runs.start(staffActor(req.staff?.userId ?? 'unknown'));
    return auditPage(req, reply, runs.current);
  });
}

function stripEmpty(q: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '' && e[0] !== 'before'));
}
