// Console pages for personal data: find a person by an identifier, see everything held about them and why, and
// the audit log with its verify result. Every route here is staff-only (guarded by role).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditAction } from '../audit/actions.ts';
import { queryAuditLog } from '../audit/query-audit-log.ts';
import { verifyAuditChain, type VerifyAuditResult } from '../audit/verify-audit-chain.ts';
import { CustodianError } from '../core/errors.ts';
import { pickText } from '../documents/pick-text.ts';
import { toCustodianError } from '../http/error-handler.ts';
import { IDENTIFIER_KINDS } from '../register/schema.ts';
import { registerConsoleForms } from '../staff/console-routes.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { can, rolesWith } from '../staff/roles.ts';
import { consolePageContext, sendStaffError } from '../staff/staff-runtime.ts';
import { defaultPhoneRegion, normaliseIdentifier, type IdentifierKind } from '../subjects/normalise-identifier.ts';
import { mergeSubjects } from '../subjects/merge-subjects.ts';
import { personView, type PersonViewDeps } from '../subjects/person-view.ts';
import { renderConsolePage, renderConsoleTemplate } from './console-layout.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const Params = z.object({ id: z.string().regex(UUID, 'is not a Custodian id') });
const SearchQuery = z.object({ q: z.string().max(254).optional() });
const AuditQuery = z.object({
  subject: z.string().max(64).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(64).optional(),
  from: z.string().max(10).optional(),
  to: z.string().max(10).optional(),
  before: z.string().max(200).optional(),
});

export async function consolePeopleRoutes(app: FastifyInstance, { deps }: { deps: PersonViewDeps }): Promise<void> {
  await registerConsoleForms(app);
  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const err = toCustodianError(error);
    if (err.status >= 500) req.log.error({ code: err.code, route: req.routeOptions.url, cause: error.code ?? error.name, stack: error.stack }, 'request failed');
    return sendStaffError(req, reply, err);
  });
  const page = (req: FastifyRequest, reply: FastifyReply, title: string, template: string, data: Record<string, unknown>) =>
    reply.type('text/html; charset=utf-8').send(renderConsolePage(title, renderConsoleTemplate(template, data), consolePageContext(req)));
  const { register, db } = deps;
  const region = defaultPhoneRegion(register.controller);

  app.get('/console/people', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) }, async (req, reply) => {
    const { q = '' } = SearchQuery.parse(req.query);
    const query = q.trim();
    const results: { id: string; kindTitle: string; matchedBy: string; mergedInto: string | null }[] = [];
    if (query) {
      const candidates: { kind: string; value: string }[] = [];
      for (const kind of IDENTIFIER_KINDS) {
        const n = normaliseIdentifier(kind as IdentifierKind, query, region);
        if (n.ok) candidates.push({ kind, value: n.value });
      }
      const rows = candidates.length === 0 ? [] : await db.kysely
        .selectFrom('subject_identifier')
        .innerJoin('subject', 'subject.id', 'subject_identifier.subject_id')
        .select(['subject.id', 'subject.kind', 'subject.merged_into', 'subject_identifier.kind as idKind'])
        .where((eb) => eb.or(candidates.map((c) => eb.and([eb('subject_identifier.kind', '=', c.kind), eb('subject_identifier.value', '=', c.value)]))))
        .execute();
      const byId = UUID.test(query) ? await db.kysely.selectFrom('subject').select(['id', 'kind', 'merged_into']).where('id', '=', query.toLowerCase()).execute() : [];
      for (const r of rows) results.push({ id: r.id, kindTitle: kindTitle(r.kind), matchedBy: r.idKind, mergedInto: r.merged_into });
      for (const r of byId) results.push({ id: r.id, kindTitle: kindTitle(r.kind), matchedBy: 'Custodian id', mergedInto: r.merged_into });
    }
    return page(req, reply, 'Find a person', 'people-search', { q: query, searched: query !== '', results });
  });

  const showPerson = async (req: FastifyRequest, reply: FastifyReply, reveal: boolean) => {
    const { id } = Params.parse(req.params);
    const actor = `staff:${req.staff?.userId ?? 'unknown'}`;
    const person = await personView(deps, id.toLowerCase(), { reveal, actor });
    if (!person) throw new CustodianError('not_found', 'nobody with that Custodian id');
    const role = req.staff?.role ?? 'auditor';
    return page(req, reply, person.kindTitle, 'person', {
      person,
      canReveal: can(role, 'records.read-sealed'),
      canWrite: can(role, 'records.write'),
      csrfToken: consolePageContext(req).csrfToken,
    });
  };

  app.post('/console/people/:id/merge', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.write')) }, async (req, reply) => {
    const { id } = Params.parse(req.params);
    const body = z.object({ from: z.string().trim().regex(UUID, 'is not a Custodian id') }).safeParse(req.body ?? {});
    if (!body.success) throw new CustodianError('invalid_body', 'give the Custodian id of the record to merge into this one');
    await mergeSubjects(deps, { from: body.data.from.toLowerCase(), into: id.toLowerCase(), actor: `staff:${req.staff?.userId ?? 'unknown'}` });
    return reply.redirect(`/console/people/${id.toLowerCase()}`, 303);
  });

  app.get('/console/people/:id', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) }, (req, reply) => showPerson(req, reply, false));
  app.post('/console/people/:id/reveal', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read-sealed')) }, (req, reply) => showPerson(req, reply, true));

  const auditPage = async (req: FastifyRequest, reply: FastifyReply, verify: VerifyAuditResult | null) => {
    const q = AuditQuery.parse(req.query);
    const action = q.action && (AUDIT_ACTIONS as readonly string[]).includes(q.action) ? (q.action as AuditAction) : undefined;
    const day = (s: string | undefined) => (s && /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : undefined);
    const to = day(q.to);
    const result = await queryAuditLog(db, {
      limit: 100,
      ...(q.subject && UUID.test(q.subject) ? { subjectId: q.subject.toLowerCase() } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(action ? { action } : {}),
      ...(day(q.from) ? { from: day(q.from)! } : {}),
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
      detail: Object.entries(e.detail).map(([k, v]) => `${k}=${String(v)}`).join(' '),
    }));
    const next = result.next ? `/console/audit?${new URLSearchParams({ ...stripEmpty(q), before: result.next }).toString()}` : null;
    return page(req, reply, 'Audit log', 'audit-log', {
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
    const verify = await verifyAuditChain(db, { checkpointKey: deps.checkpointKeys });
    return auditPage(req, reply, verify);
  });

  function kindTitle(kind: string): string {
    const s = register.subjects[kind];
    return s ? pickText(s.title, 'en') : kind;
  }
}

function stripEmpty(q: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '' && e[0] !== 'before'));
}

