// The answer a requester downloads by their expiring link, in every form: the readable page, PDF, and JSON (for an
// access request, the whole answer; for a portability request, the portable data), plus, for portability, CSV and
// the health records as an HL7 FHIR R4 Bundle. And the direct transmission of portable data to another controller.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { renderAnswerPdf } from './answer-pdf.ts';
import { answerLinkRequest, downloadAnswer } from './fulfil.ts';
import { buildPortabilityExport, portabilityCsv, portabilityFhir } from './portability.ts';
import { renderAnswerHtml, renderLinkNotWorking } from './render-answer.ts';
import { type TransmitOptions, transmitPortability } from './transmit-portability.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const FORMATS = ['html', 'json', 'pdf', 'csv', 'fhir'] as const;

interface ExportRoutesOptions {
  readonly ctx: Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register' | 'mailer' | 'subjectKeys'>;
  /** Where transmissions may go (tests: a local https server). */
  readonly transmit?: TransmitOptions;
}

export const exportRoutes: FastifyPluginAsync<ExportRoutesOptions> = async (base, { ctx, transmit }) => {
  // A browser's form post reaches the staff guard (and its 303 to sign-in) rather than a 415.
  await base.register(formbody, { bodyLimit: 64 * 1024 });
  const app = base.withTypeProvider<ZodTypeProvider>();
  const lang = ctx.register.notice.language;

  app.get(
    '/privacy-center/answer',
    {
      schema: {
        summary: 'Read or download an access or portability answer by the link emailed to the requester',
        description:
          '`html` (default) and `pdf`: the answer with every Art. 15 item. `json`: for an access request the whole answer; for a portability request only what the person provided on consent or contract by electronic means (Art. 20), with what was left out and why. `csv` (one row per record) and `fhir` (the health records as an HL7 FHIR R4 collection Bundle): portability requests only.',
        tags: ['requests'],
        querystring: z.object({ token: z.string().max(100).default(''), format: z.enum(FORMATS).default('html') }),
        produces: ['text/html', 'application/json', 'application/pdf', 'text/csv', 'application/fhir+json'],
      },
    },
    async (req, reply) => {
      const { token, format } = req.query;
      const link = await answerLinkRequest(ctx, token).catch((e: unknown) => {
        // A person following a broken or expired link gets a page that says so, not a JSON error.
        if (format === 'html' && e instanceof CustodianError && e.code === 'not_found') return null;
        throw e;
      });
      if (!link) return reply.code(404).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderLinkNotWorking(lang, ctx.register));
      const portability = link.type === 'portability';
      if (!portability && (format === 'csv' || format === 'fhir'))
        throw new CustodianError('invalid_query', 'CSV and FHIR are the forms of a portability answer; this is an access answer');
      const answer = await downloadAnswer(ctx, token);
      reply.header('cache-control', 'no-store');
      const attachment = (name: string) => reply.header('content-disposition', `attachment; filename="${name}"`);
      if (format === 'html') return reply.type('text/html; charset=utf-8').send(renderAnswerHtml(answer, lang, token, { portability }));
      if (format === 'pdf')
        return attachment('answer.pdf')
          .type('application/pdf')
          .send(await renderAnswerPdf(answer, lang));
      if (!portability) return attachment('answer.json').send(answer);
      const exp = await buildPortabilityExport(ctx, answer);
      if (format === 'json') return attachment('data.json').send(exp);
      if (format === 'csv') return attachment('data.csv').type('text/csv; charset=utf-8; header=present').send(portabilityCsv(exp));
      return attachment('health-records.fhir.json')
        .type('application/fhir+json; charset=utf-8')
        .send(JSON.stringify(portabilityFhir(ctx.register, exp)));
    },
  );

  app.post(
    '/api/v1/staff/requests/:id/transmit',
    {
      preValidation: requireStaff(rolesWith('requests.manage')),
      schema: {
        summary: "Send a portability request's data directly to another controller's HTTPS endpoint (staff)",
        description:
          'Art. 20(2): the portable data (JSON, with the health records as a FHIR Bundle) is POSTed to `url`, https only, never to this machine or a private network. Each attempt is audited; a delivered export leaves an `exported` decision per record naming where it went. 502 `transmission_failed` when the endpoint cannot be reached or refuses it.',
        tags: ['requests', 'staff'],
        params: z.object({ id: z.uuid() }),
        body: z.object({ url: z.string().max(2000) }),
        response: { 200: z.object({ to: z.string(), records: z.number().int() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 502: ErrorBody },
      },
    },
    async (req) => transmitPortability(ctx, req.params.id, { url: req.body.url, actor: staffActor(req.staff?.userId ?? 'unknown') }, transmit),
  );
};
