// Consent in the console: consent rates per purpose by week as a chart (a table with bars, readable without it), and
// the proof look-up for a person or a visitor id (Art. 7(1)): every event with its date, method and notice version,
// the receipts, and the proof export as JSON.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { consentRates } from '../consent/consent-rates.ts';
import { trailOf } from '../consent/consent-proof.ts';
import { consentHistory } from '../consent/consent-state.ts';
import { parseInput } from '../core/framework-errors.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { subjectPeople } from '../subjects/people.ts';
import { sendPage } from './console-page.ts';
import type { ConsoleScope } from './console-plugin.ts';

const Query = z.object({
  id: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'is not a visitor id or a Custodian id')
    .optional(),
});

export function consentRoutes(app: FastifyInstance, scope: ConsoleScope): void {
  const { ctx, controllerName } = scope;
  const guard = { schema: { hide: true }, preValidation: requireStaff(rolesWith('records.read')) };
  app.get('/console/consent', guard, async (req, reply) => {
    const { id } = parseInput(Query, req.query, 'invalid_query');
    const rates = await consentRates(ctx);
    const titleOf = (p: string) => {
      const t = ctx.register.purposes[p]?.title;
      return t === undefined ? p : typeof t === 'string' ? t : t.en;
    };
    const history = id ? await consentHistory(ctx, subjectPeople, id) : null;
    // Whether the audit trail still vouches for every receipt shown (consent/ledger-digest.ts).
    const trail = history && history.events.length > 0 ? await trailOf(ctx.db.kysely, history.events) : null;
    const unvouched = trail?.receipts.filter((r) => !r.matches).map((r) => r.receiptId) ?? [];
    return sendPage(req, reply, controllerName, 'Consent', 'consent', {
      rates: rates.map((r) => ({ ...r, title: titleOf(r.purpose) })),
      id: id ?? '',
      kind: history?.kind ?? null,
      unvouched,
      events: (history?.events ?? []).map((e) => ({
        at: e.at.toISOString().replace('T', ' ').slice(0, 19),
        purpose: e.purpose,
        channel: e.channel ?? '',
        state: e.state,
        method: e.method,
        notice: e.noticeFingerprint.slice(0, 12),
        expires: e.expiresAt ? e.expiresAt.toISOString().slice(0, 10) : '',
        receiptId: e.receiptId,
      })),
    });
  });
}
