// POST /api/v1/collect/{point}: one route per collection point in the register, so the OpenAPI document lists
// each form's exact fields, and POST /api/v1/staff/collect/{point} for what staff record. The edge schema only
// requires an object; prepare-submission.ts applies the register. Bodies are JSON, form-encoded, or multipart when
// they carry files (read-multipart.ts).
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/app-context.ts';
import { gpcSignalled } from '../../consent/consent-purposes.ts';
import { CustodianError } from '../../core/errors.ts';
import { CHANNELS, DEFAULT_FILE_MAX_BYTES } from '../../register/schema.ts';
import { staffActor } from '../../staff/actor.ts';
import { requireStaff } from '../../staff/require-staff.ts';
import { rolesWith } from '../../staff/roles.ts';
import type { Collector } from './collector.ts';
import { acceptMultipart, pointLimits, readMultipart } from './read-multipart.ts';

/**
 * A form field named __proto__ would vanish when the body is copied into a plain object (and so be accepted
 * silently); JSON bodies with it are already refused by the parser. Refuse it like any undeclared field.
 */
async function refuseProtoKey(req: { body: unknown }): Promise<void> {
  if (req.body && typeof req.body === 'object' && Object.hasOwn(req.body, '__proto__')) {
    throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems: [{ field: '__proto__', problem: 'is not a field of this form' }] });
  }
}

/** Channels people use themselves; points on other channels (post, phone...) are recorded by staff only. */
export const PUBLIC_CHANNELS: ReadonlySet<string> = new Set(['web', 'app', 'api']);
const Created = z.object({ subjectId: z.uuid(), recordIds: z.array(z.uuid()) });
const StaffCreated = Created.extend({ createdSubject: z.boolean(), reviewItems: z.number().int() });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

export const collectRoutes: FastifyPluginAsync<{ ctx: Pick<AppContext, 'register' | 'clock'>; collector: Collector }> = async (base, { ctx, collector }) => {
  await base.register(formbody, { bodyLimit: 64 * 1024 });
  const { register } = ctx;
  await acceptMultipart(base, register);
  const app = base.withTypeProvider<ZodTypeProvider>();

  for (const [key, point] of Object.entries(register.collection)) {
    // Letters, calls and emails are recorded by staff (below); only points people reach online are public.
    if (!PUBLIC_CHANNELS.has(point.channel)) continue;
    const fields: Record<string, z.ZodType> = {};
    for (const [name, f] of Object.entries(point.fields)) {
      const title = typeof register.data[f.data]?.title === 'string' ? (register.data[f.data]!.title as string) : f.data;
      const role =
        f.type === 'file'
          ? ` (multipart upload; ${(f.accept ?? ['pdf', 'jpeg', 'png']).join(', ')}, told by content; at most ${f['max-size'] ?? DEFAULT_FILE_MAX_BYTES} bytes)`
          : f.consent
            ? `, ticked = consent to "${f.consent}"${f.channel ? ` by ${f.channel}` : ''}`
            : f.identifier
              ? `, identifies the ${point.subject} (${f.identifier})`
              : '';
      fields[name] = z
        .unknown()
        .optional()
        .describe(`${f.type}${f.required ? ', required' : ''}${role}: ${title}`);
    }
    const limits = pointLimits(register, key);
    app.post(
      `/api/v1/collect/${key}`,
      {
        preValidation: [
          async (req) => {
            if (req.isMultipart()) req.body = await readMultipart(req, limits);
          },
          refuseProtoKey,
        ],
        schema: {
          summary: `Submit "${typeof point.title === 'string' ? point.title : point.title.en}"`,
          description: `Accepts exactly the fields the register declares for collection point "${key}" (JSON, form-encoded, or multipart/form-data, which files need). Undeclared or invalid fields: 400 listing each field; nothing is stored. Email consent ticked here is pending until confirmed by the link mailed to the submitted address. \`Sec-GPC: 1\`: legitimate-interest marketing and profiling objected to and consents not ticked refused, method gpc.`,
          tags: ['collection'],
          body: z.looseObject(fields),
          response: { 201: Created, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const result = await collector.submit({ point: key, body: req.body, actor: `public:${key}`, gpc: gpcSignalled(req.headers['sec-gpc']) });
        return reply.code(201).send({ subjectId: result.subjectId, recordIds: result.recordIds });
      },
    );
  }

  // Staff record what arrived by post, phone or email through the same path, saying how and when it came.
  const StaffBody = z.object({
    channel: z.enum(CHANNELS),
    receivedAt: z.iso.date().or(z.iso.datetime()),
    fields: z.record(z.string(), z.unknown()),
    /** The person it is about, when staff know (a Custodian id); otherwise strong identifiers they vouch for decide. */
    subject: z.uuid().optional(),
  });
  app.post(
    '/api/v1/staff/collect/:point',
    {
      preValidation: [
        requireStaff(rolesWith('records.write')),
        // Multipart (with files): parts channel, receivedAt, subject, and fields.<name> for each field.
        async (req) => {
          if (!req.isMultipart()) return;
          const point = (req.params as { point?: string }).point ?? '';
          if (!Object.hasOwn(register.collection, point))
            throw new CustodianError('not_found', `there is no collection point "${point.slice(0, 64)}" in the register`);
          const { fields = {}, ...rest } = nest(await readMultipart(req, pointLimits(register, point)));
          req.body = { ...rest, fields } as typeof req.body;
        },
      ],
      schema: {
        summary: 'Record a submission that arrived by post, phone or email (staff)',
        description:
          'Same rules as the public collection point (JSON, or multipart/form-data with parts channel, receivedAt, subject and fields.<name>, which files need); the records carry the channel and the date received. It is added to `subject` when given, else to the one person who holds a strong identifier it carries (a patient number within its practice, a customer number); otherwise it is a new person. A shared phone or email never decides: a new person who shares one with someone similar gets a "possibly the same person" item in the console.',
        tags: ['collection', 'staff'],
        params: z.object({ point: z.string().max(100) }),
        body: StaffBody,
        response: { 201: StaffCreated, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const receivedAt = new Date(req.body.receivedAt);
      if (receivedAt.getTime() > ctx.clock.now().getTime()) throw new CustodianError('invalid_body', 'receivedAt is in the future');
      const input = {
        point: req.params.point,
        body: req.body.fields,
        actor: staffActor(req.staff?.userId ?? 'unknown'),
        channel: req.body.channel,
        receivedAt,
        ...(req.body.subject ? { subjectId: req.body.subject } : {}),
      };
      const result = await collector.submit(input, { batch: false });
      return reply
        .code(201)
        .send({ subjectId: result.subjectId, recordIds: result.recordIds, createdSubject: result.createdSubject, reviewItems: result.reviewItems });
    },
  );

  // A point that is not in the register: say so in the same coded shape as everything else.
  app.post('/api/v1/collect/:point', { schema: { hide: true, params: z.object({ point: z.string().max(100) }) } }, async (req) => {
    throw new CustodianError('not_found', `there is no collection point "${req.params.point.slice(0, 64)}" in the register`);
  });
};

/** Multipart part names as the JSON body nests them: `fields.patient.name` is fields["patient.name"]. */
function nest(flat: Record<string, unknown>): { fields?: Record<string, unknown>; [key: string]: unknown } {
  const out: { fields?: Record<string, unknown>; [key: string]: unknown } = {};
  const fields: Record<string, unknown> = Object.create(null);
  for (const [name, value] of Object.entries(flat)) {
    if (name.startsWith('fields.')) fields[name.slice('fields.'.length)] = value;
    else out[name] = value;
  }
  if (Object.keys(fields).length > 0) out.fields = fields;
  return out;
}
