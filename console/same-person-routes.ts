// Console pages for "possibly the same person": the queue of items collection opened, a page comparing the two
// people side by side, and the decisions (same person: merge, pending until confirmed; different people). Merges
// are undone or confirmed from the person page. Every decision is audited by subjects/.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CustodianError } from '../core/errors.ts';
import { parseInput } from '../core/framework-errors.ts';
import { UUID_PATTERN } from '../core/ids.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { can, rolesWith } from '../staff/roles.ts';
import { confirmMerge, undoMerge } from '../subjects/merge-subjects.ts';
import { personView } from '../subjects/person-view.ts';
import { decideSamePerson, listOpenReviewItems, reviewItem } from '../subjects/review-items.ts';
import { consolePageContext, sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';
import { describePerson, kindTitle } from './people-routes.ts';

const Params = z.object({ id: z.string().regex(UUID_PATTERN, 'is not an id') });
const DecisionBody = z.object({ decision: z.enum(['same-person', 'different-people']) });

/** What a signal says, in the console's words. */
function signalText(signal: string): string {
  if (signal.startsWith('shares:')) return `Same ${signal.slice('shares:'.length).replace('-', ' ')}`;
  return (
    { 'same-name': 'Same name', 'name-differs': 'Different name', 'same-birth-date': 'Same date of birth', 'birth-date-differs': 'Different date of birth' }[
      signal
    ] ?? signal
  );
}

export function samePersonRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const { register } = ctx;
  const actorOf = (req: FastifyRequest) => staffActor(req.staff?.userId ?? 'unknown');
  const day = (d: Date) => d.toISOString().slice(0, 10);

  app.get('/console/same-person', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) }, async (req, reply) => {
    const { items, total } = await listOpenReviewItems(ctx);
    const decided = (req.query as { decided?: unknown } | undefined)?.decided;
    return sendPage(req, reply, controllerName, 'Possibly the same person', 'same-person-queue', {
      total,
      decided: decided === 'same-person' || decided === 'different-people' ? decided : null,
      items: items.map((i) => ({ id: i.id, kindTitle: kindTitle(register, i.kind), openedAt: day(i.openedAt), signals: i.signals.map(signalText) })),
    });
  });

  app.get('/console/same-person/:id', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) }, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const item = await reviewItem(ctx, id.toLowerCase());
    if (!item) throw new CustodianError('not_found', 'no such item');
    const [newer, known] = await Promise.all([
      personView(ctx, item.subjectId, { reveal: false, actor: actorOf(req) }),
      personView(ctx, item.candidateId, { reveal: false, actor: actorOf(req) }),
    ]);
    if (!newer || !known) throw new CustodianError('not_found', 'one of them is gone');
    return sendPage(req, reply, controllerName, 'Possibly the same person', 'same-person', {
      item: { ...item, openedAt: day(item.openedAt), signals: item.signals.map(signalText) },
      newer: describePerson(register, newer),
      known: describePerson(register, known),
      canWrite: can(req.staff?.role ?? 'auditor', 'records.write'),
      csrfToken: consolePageContext(req, controllerName).csrfToken,
    });
  });

  app.post('/console/same-person/:id', { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.write')) }, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const { decision } = parseInput(DecisionBody, req.body ?? {}, 'invalid_body');
    const result = await decideSamePerson(ctx, { itemId: id, decision, actor: actorOf(req) });
    return reply.redirect(
      decision === 'same-person' ? `/console/people/${result.into}?merged=${result.mergeId}` : '/console/same-person?decided=different-people',
      303,
    );
  });

  for (const action of ['undo', 'confirm'] as const) {
    app.post(`/console/merges/:id/${action}`, { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.write')) }, async (req, reply) => {
      const { id } = parseInput(Params, req.params, 'invalid_params');
      const merge =
        action === 'undo' ? (await undoMerge(ctx, { mergeId: id, actor: actorOf(req) })).merge : await confirmMerge(ctx, { mergeId: id, actor: actorOf(req) });
      return reply.redirect(`/console/people/${merge.into}?${action === 'undo' ? 'unmerged' : 'confirmed'}=${merge.id}`, 303);
    });
  }
}
