// The audit log in the console, filtered and paged, and the verification of the whole trail. Read-only: auditors
// (who never see personal data) may use both.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUDIT_ACTIONS, isAuditAction } from '../audit/actions.ts';
import { queryAuditLog } from '../audit/query-audit-log.ts';
import type { VerifyAuditResult } from '../audit/verify/verify-audit-chain.ts';
import { isUuid } from '../core/ids.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';

const AuditQuery = z.object({
  subject: z.string().max(64).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(64).optional(),
  from: z.string().max(10).optional(),
  to: z.string().max(10).optional(),
  before: z.string().max(200).optional(),
});

export function auditRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;

  const auditPage = async (req: FastifyRequest, reply: FastifyReply, verify: VerifyAuditResult | null) => {
    const q = AuditQuery.parse(req.query);
    const action = q.action && isAuditAction(q.action) ? q.action : undefined;
    const day = (s: string | undefined) => (s && /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : undefined);
    const from = day(q.from);
    const to = day(q.to);
    const result = await queryAuditLog(ctx.db, {
      limit: 100,
      ...(q.subject && isUuid(q.subject) ? { subjectId: q.subject.toLowerCase() } : {}),
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
    return sendPage(req, reply, controllerName, 'Audit log', 'audit-log', {
      verify,
      events,
      next,
      actions: AUDIT_ACTIONS,
      filters: { subject: q.subject ?? '', actor: q.actor ?? '', action: action ?? '', from: q.from ?? '', to: q.to ?? '' },
    });
  };

  app.get('/console/audit', { schema: { hide: true }, preValidation: requireStaff(rolesWith('audit.read')) }, (req, reply) => auditPage(req, reply, null));
  // Verifying changes nothing, so it is a GET: auditors (read-only) must be able to run it.
  app.get('/console/audit/verify', { schema: { hide: true }, preValidation: requireStaff(rolesWith('audit.read')) }, async (req, reply) => {
    return auditPage(req, reply, await ctx.auditor.verify(ctx.db));
  });
}

function stripEmpty(q: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '' && e[0] !== 'before'));
}
