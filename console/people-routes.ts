// Console pages for personal data: find a person by an identifier, see everything held about them and why, reveal
// their sealed values (audited), merge a duplicate. Every route is staff-only, guarded by role.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CustodianError } from '../core/errors.ts';
import { parseInput } from '../core/framework-errors.ts';
import { UUID_PATTERN } from '../core/ids.ts';
import { phraseKeepUntil } from '../documents/phrase-keep-until.ts';
import type { Register } from '../register/load-register.ts';
import { pickText } from '../register/text.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { can, rolesWith } from '../staff/roles.ts';
import { findPeople } from '../subjects/find-people.ts';
import { mergesAbout, mergeSubjects } from '../subjects/merge-subjects.ts';
import { openPersonFile, personView, type PersonView } from '../subjects/person-view.ts';
import { openItemsAbout } from '../subjects/review-items.ts';
import { consolePageContext, sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';

const Params = z.object({ id: z.string().regex(UUID_PATTERN, 'is not a Custodian id') });
const FileParams = Params.extend({ record: z.string().regex(UUID_PATTERN, 'is not a record id') });
const SearchQuery = z.object({ q: z.string().max(254).optional() });
const MergeBody = z.object({ from: z.string().trim().regex(UUID_PATTERN, 'is not a Custodian id') });

export function peopleRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const { register } = ctx;
  const actorOf = (req: FastifyRequest) => staffActor(req.staff?.userId ?? 'unknown');

  app.get('/console/people', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) }, async (req, reply) => {
    const query = (parseInput(SearchQuery, req.query, 'invalid_query').q ?? '').trim();
    const matches = query ? await findPeople(ctx, query, actorOf(req)) : [];
    const results = matches.map((m) => ({
      id: m.id,
      kindTitle: kindTitle(register, m.kind),
      matchedBy: m.matchedBy === 'id' ? 'Custodian id' : m.matchedBy,
      mergedInto: m.mergedInto,
    }));
    return sendPage(req, reply, controllerName, 'Find a person', 'people-search', { q: query, searched: query !== '', results });
  });

  const showPerson = async (req: FastifyRequest, reply: FastifyReply, reveal: boolean) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const person = await personView(ctx, id.toLowerCase(), { reveal, actor: actorOf(req) });
    if (!person) throw new CustodianError('not_found', 'nobody with that Custodian id');
    const role = req.staff?.role ?? 'auditor';
    const page = describePerson(register, person);
    const [merges, items] = await Promise.all([mergesAbout(ctx, person.id), openItemsAbout(ctx, person.id)]);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const query = req.query as Record<string, unknown> | undefined;
    return sendPage(req, reply, controllerName, page.kindTitle, 'person', {
      person: page,
      merges: merges.map((m) => ({
        id: m.id,
        other: m.into === person.id ? m.from : m.into,
        direction: m.into === person.id ? 'from' : 'into',
        state: m.state,
        records: m.recordIds.length,
        mergedAt: day(m.mergedAt),
      })),
      reviewItems: items.map((i) => ({ id: i.id, other: i.subjectId === person.id ? i.candidateId : i.subjectId })),
      flash: query?.merged ? 'merged' : query?.unmerged ? 'unmerged' : query?.confirmed ? 'confirmed' : null,
      canReveal: can(role, 'records.read-sealed'),
      canWrite: can(role, 'records.write'),
      csrfToken: consolePageContext(req, controllerName).csrfToken,
    });
  };

  app.post('/console/people/:id/merge', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.write')) }, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const body = MergeBody.safeParse(req.body ?? {});
    if (!body.success) throw new CustodianError('invalid_body', 'give the Custodian id of the record to merge into this one');
    await mergeSubjects(ctx, { from: body.data.from.toLowerCase(), into: id.toLowerCase(), actor: actorOf(req) });
    return reply.redirect(`/console/people/${id.toLowerCase()}`, 303);
  });

  app.get('/console/people/:id', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) }, (req, reply) =>
    showPerson(req, reply, false),
  );
  // A file (a CV, a photo) downloads like a reveal: a post with the CSRF token, by roles that read sealed values, audited.
  app.post(
    '/console/people/:id/files/:record',
    { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read-sealed')) },
    async (req, reply) => {
      const { id, record } = parseInput(FileParams, req.params, 'invalid_params');
      const file = await openPersonFile(ctx, { subjectId: id.toLowerCase(), recordId: record.toLowerCase(), actor: actorOf(req) });
      return reply
        .header('cache-control', 'no-store')
        .header(
          'content-disposition',
          `attachment; filename="${file.name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
        )
        .type(file.mediaType)
        .send(file.content);
    },
  );
  app.post('/console/people/:id/reveal', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read-sealed')) }, (req, reply) =>
    showPerson(req, reply, true),
  );
}

export function kindTitle(register: Register, kind: string): string {
  const s = Object.hasOwn(register.subjects, kind) ? register.subjects[kind] : undefined;
  return s ? pickText(s.title, 'en') : kind;
}

/** The person view in the console's words (English). */
export function describePerson(register: Register, person: PersonView) {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return {
    ...person,
    kindTitle: kindTitle(register, person.kind),
    createdAt: day(person.createdAt),
    purposes: person.purposes.map((g) => ({
      ...g,
      title: g.inRegister ? pickText(register.purposes[g.key]!.title, 'en') : `${g.key} (no longer in the register)`,
      records: g.records.map((r) => ({
        ...r,
        category: Object.hasOwn(register.data, r.category) ? pickText(register.data[r.category]!.title, 'en') : r.category,
        collectedAt: day(r.collectedAt),
        receivedAt: r.receivedAt ? day(r.receivedAt) : null,
        keepUntil: phraseKeepUntil(register, g.key, r.keepUntil, 'en'),
      })),
    })),
  };
}
