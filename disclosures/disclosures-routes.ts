// POST /api/v1/staff/disclosures: staff (and later the imaging workflows) record that records went to a recipient.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { receivedInstant } from '../core/received-instant.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { recordDisclosure, type DisclosureDeps } from './record-disclosure.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const IsoDate = z.iso.date();

export const disclosuresRoutes: FastifyPluginAsync<{ ctx: DisclosureDeps }> = async (base, { ctx }) => {
  // A browser's form post reaches the staff guard (and its 303 to sign-in) rather than a 415.
  await base.register(formbody, { bodyLimit: 64 * 1024 });
  const app = base.withTypeProvider<ZodTypeProvider>();
  const actorOf = (req: { staff?: { userId: string } | null }) => staffActor(req.staff?.userId ?? 'unknown');
  app.post(
    '/api/v1/staff/disclosures',
    {
      preValidation: requireStaff(rolesWith('disclosures.write')),
      schema: {
        summary: "Record that a person's records went to a recipient (staff)",
        description:
          "Allowed only to a recipient the register names for the purpose, for categories the purpose uses (and the recipient may receive), and for the person's live records collected for that purpose; otherwise 409 `disclosure_refused` (or `record_restricted`) and nothing is recorded.",
        tags: ['disclosures', 'staff'],
        body: z.object({
          subject: z.uuid(),
          recipient: z.string().max(100),
          purpose: z.string().max(100),
          categories: z.array(z.string().max(100)).max(100).optional(),
          records: z.array(z.uuid()).max(10_000).optional(),
          disclosedAt: IsoDate.or(z.iso.datetime()).optional(),
          reference: z.string().max(80).optional(),
        }),
        response: {
          201: z.object({
            id: z.uuid(),
            recipient: z.string(),
            purpose: z.string(),
            categories: z.array(z.string()),
            recordIds: z.array(z.uuid()),
            disclosedAt: z.string(),
          }),
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const row = await recordDisclosure(ctx, {
        subjectId: b.subject,
        recipient: b.recipient,
        purpose: b.purpose,
        actor: actorOf(req),
        ...(b.categories ? { categories: b.categories } : {}),
        ...(b.records ? { recordIds: b.records } : {}),
        ...(b.disclosedAt ? { disclosedAt: receivedInstant(b.disclosedAt, ctx.clock.now()) } : {}),
        ...(b.reference ? { reference: b.reference } : {}),
      });
      return reply.code(201).send({
        id: row.id,
        recipient: row.recipient,
        purpose: row.purpose,
        categories: row.categories,
        recordIds: row.record_ids,
        disclosedAt: row.disclosed_at.toISOString(),
      });
    },
  );
};
