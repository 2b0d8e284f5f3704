// Console: record that a person's records went to a recipient (the disclosure ledger, disclosures/), and see what
// went where. The choices offered are the register's: each purpose with the recipients it names; the check that the
// records, categories and recipient agree with the register is the ledger's own, and its refusals show here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CustodianError } from '../core/errors.ts';
import { parseInput } from '../core/framework-errors.ts';
import { UUID_PATTERN } from '../core/ids.ts';
import { receivedInstant } from '../core/received-instant.ts';
import { disclosuresOf } from '../disclosures/disclosures-store.ts';
import { recordDisclosure } from '../disclosures/record-disclosure.ts';
import { pickText } from '../register/text.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';

const Params = z.object({ id: z.string().regex(UUID_PATTERN, 'is not an id') });

export function disclosuresRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const { register } = ctx;
  const lang = register.notice.language;
  const guard = requireStaff(rolesWith('disclosures.write'));
  const choices = Object.entries(register.purposes).flatMap(([purpose, p]) =>
    p.recipients.map((recipient) => ({
      value: `${purpose}|${recipient}`,
      label: `${pickText(register.recipients[recipient]?.title ?? recipient, lang)} — for: ${pickText(p.title, lang)}`,
    })),
  );

  async function page(req: FastifyRequest, reply: FastifyReply, id: string, extra: { error?: string; recorded?: boolean; form?: Record<string, string> }) {
    const past = await disclosuresOf(ctx.db.kysely, [id]);
    return sendPage(req, reply, controllerName, 'Record a disclosure', 'disclose', {
      id,
      csrfToken: req.staffSession?.csrfToken ?? '',
      choices,
      today: ctx.clock.now().toISOString().slice(0, 10),
      form: extra.form ?? {},
      error: extra.error ?? null,
      recorded: extra.recorded ?? false,
      past: past.map((d) => ({
        on: d.disclosed_at.toISOString().slice(0, 10),
        recipient: pickText(register.recipients[d.recipient]?.title ?? d.recipient, lang),
        purpose: pickText(register.purposes[d.purpose]?.title ?? d.purpose, lang),
        categories: d.categories.map((c) => pickText(register.data[c]?.title ?? c, lang)),
        records: d.record_ids.length,
        reference: d.reference,
      })),
    });
  }

  app.get('/console/people/:id/disclose', { schema: { hide: true }, preValidation: guard }, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const recorded = (req.query as { recorded?: unknown } | undefined)?.recorded === '1';
    return page(req, reply, id.toLowerCase(), { recorded });
  });

  app.post('/console/people/:id/disclose', { schema: { hide: true }, preValidation: guard }, async (req, reply) => {
    const { id } = parseInput(Params, req.params, 'invalid_params');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const form = Object.fromEntries(['choice', 'on', 'reference'].map((k) => [k, typeof body[k] === 'string' ? (body[k] as string) : ''])) as Record<
      string,
      string
    >;
    const [purpose, recipient] = (form.choice ?? '').split('|');
    try {
      if (!purpose || !recipient || !choices.some((c) => c.value === form.choice)) throw new CustodianError('invalid_body', 'choose the recipient and purpose');
      await recordDisclosure(ctx, {
        subjectId: id,
        purpose,
        recipient,
        actor: staffActor(req.staff?.userId ?? 'unknown'),
        ...(form.on ? { disclosedAt: receivedInstant(form.on, ctx.clock.now()) } : {}),
        ...(form.reference ? { reference: form.reference } : {}),
      });
    } catch (e) {
      if (!(e instanceof CustodianError) || e.status >= 500) throw e;
      reply.code(e.status);
      return page(req, reply, id.toLowerCase(), { error: e.message, form });
    }
    return reply.redirect(`/console/people/${id.toLowerCase()}/disclose?recorded=1`, 303);
  });
}
