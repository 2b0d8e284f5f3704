// The outbox: outgoing mail as staff see it. The list shows what each message is and how its delivery went, never its
// address or words; a message's page shows its content, and that opening is in the audit trail like a read of sealed
// values. Held messages (no SMTP server configured) are sent by hand and marked so here; failed ones can be tried
// again. Owners and DPOs only: the content is personal data.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../core/framework-errors.ts';
import { UUID_PATTERN } from '../core/ids.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { consolePageContext, sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';

const PAGE = 100;
const Params = z.object({ id: z.string().regex(UUID_PATTERN, 'is not a message id') });
const ListQuery = z.object({ before: z.string().regex(UUID_PATTERN, 'is not a message id').optional() });
const MessageQuery = z.object({ done: z.enum(['sent', 'queued']).optional() });

const STATE_TEXT: Record<string, string> = {
  queued: 'waiting to be sent',
  sending: 'being sent',
  sent: 'sent',
  failed: 'failed',
  held: 'held: send it by hand',
};

export function outboxRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const { mailer } = ctx;
  const actorOf = (req: FastifyRequest) => staffActor(req.staff?.userId ?? 'unknown');
  const time = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '');
  const guard = { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read-sealed')) };

  app.get('/console/outbox', guard, async (req, reply) => {
    const { before } = parseInput(ListQuery, req.query, 'invalid_query');
    const rows = await mailer.outbox({ limit: PAGE, ...(before ? { before: before.toLowerCase() } : {}) });
    return sendPage(req, reply, controllerName, 'Outbox', 'outbox', {
      configured: mailer.configured,
      messages: rows.map((m) => ({
        id: m.id,
        kind: m.kind,
        state: m.state,
        stateText: STATE_TEXT[m.state] ?? m.state,
        attempts: m.attempts,
        lastError: m.last_error ?? '',
        createdAt: time(m.created_at),
        sentAt: time(m.sent_at),
        nextAttemptAt: m.state === 'queued' ? time(m.next_attempt_at) : '',
        subjectId: m.subject_id,
        erased: m.content_erased_at !== null,
      })),
      next: rows.length === PAGE ? `/console/outbox?before=${rows.at(-1)!.id}` : null,
    });
  });

  app.get('/console/outbox/:id', guard, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const { done } = parseInput(MessageQuery, req.query, 'invalid_query');
    const m = await mailer.open(id.toLowerCase(), actorOf(req));
    const erased = m.content_erased_at !== null;
    return sendPage(req, reply, controllerName, 'Message', 'outbox-message', {
      m: {
        id: m.id,
        kind: m.kind,
        state: m.state,
        stateText: STATE_TEXT[m.state] ?? m.state,
        attempts: m.attempts,
        lastError: m.last_error ?? '',
        createdAt: time(m.created_at),
        sentAt: time(m.sent_at),
        nextAttemptAt: m.state === 'queued' ? time(m.next_attempt_at) : '',
        messageId: m.message_id ?? '',
        subjectId: m.subject_id,
        requestId: m.request_id,
        from: m.from_address,
        to: m.to_address,
        subjectLine: m.subject_line,
        headers: Object.entries(m.headers),
        text: m.body_text,
        html: m.body_html,
        erasedAt: time(m.content_erased_at),
      },
      erased,
      done: done ?? null,
      canMarkSent: !erased && (m.state === 'held' || m.state === 'failed'),
      canRetry: !erased && mailer.configured && (m.state === 'failed' || m.state === 'held'),
      csrfToken: consolePageContext(req, controllerName).csrfToken,
    });
  });

  app.post('/console/outbox/:id/sent', guard, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    await mailer.markSentByHand(id.toLowerCase(), actorOf(req));
    return reply.redirect(`/console/outbox/${id.toLowerCase()}?done=sent`, 303);
  });

  app.post('/console/outbox/:id/retry', guard, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    await mailer.retry(id.toLowerCase(), actorOf(req));
    return reply.redirect(`/console/outbox/${id.toLowerCase()}?done=queued`, 303);
  });
}
