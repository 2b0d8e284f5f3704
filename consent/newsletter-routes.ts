// The newsletter's public side (consent/newsletter.ts): sign-up, the confirmation page (a Confirm button: opening
// the link never confirms), one-click unsubscribing (RFC 8058: a POST to the List-Unsubscribe URL), and the staff
// route that sends an issue.
//
//   POST /api/v1/newsletter/subscribe  {email, language?: "en" | "de", interests?: [..]} (JSON or a form)
//     → 202 {status: "confirmation-sent"} whatever was known about the address; 400 for a malformed body.
//   GET  /newsletter/confirm?token=…   a page with a Confirm button;  POST /newsletter/confirm (token) confirms.
//   GET  /unsubscribe?token=…          a page with an Unsubscribe button;  POST /unsubscribe?token=… unsubscribes.
//   POST /api/v1/staff/newsletter/issues {subjectLine, text} → 201 {queued}
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import type { Language } from '../register/schema.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { confirm, newsletterOf, sendIssue, strings, subscribe, unsubscribe } from './newsletter.ts';
import { button, linkPage as page, paragraph } from './confirm-page.ts';
import { readLink } from './signed-link.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const SubscribeBody = z.strictObject({
  email: z.string().max(254),
  language: z.enum(['en', 'de']).optional(),
  interests: z.union([z.array(z.string().max(100)).max(20), z.string().max(100)]).optional(),
});
const TokenQuery = z.object({ token: z.string().max(200).optional(), lang: z.enum(['en', 'de']).optional() });
const TokenBody = z.object({ token: z.string().max(200).optional(), 'List-Unsubscribe': z.string().max(50).optional() });
const IssueBody = z.strictObject({ subjectLine: z.string().trim().min(1).max(300), text: z.string().trim().min(1).max(200_000) });

export const newsletterRoutes: FastifyPluginAsync<{ ctx: AppContext; publicUrl: string }> = async (base, { ctx, publicUrl }) => {
  await base.register(formbody, { bodyLimit: 16 * 1024 });
  const app = base.withTypeProvider<ZodTypeProvider>();
  const langOf = (q: { lang?: Language | undefined }): Language => q.lang ?? ctx.register.notice.language;

  app.post(
    '/api/v1/newsletter/subscribe',
    {
      schema: {
        summary: 'Sign up for the newsletter (double opt-in: a confirmation link is emailed)',
        tags: ['newsletter'],
        body: SubscribeBody,
        response: { 202: z.object({ status: z.literal('confirmation-sent') }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const interests = req.body.interests === undefined ? [] : Array.isArray(req.body.interests) ? req.body.interests : [req.body.interests];
      await subscribe(ctx, { email: req.body.email, language: req.body.language ?? ctx.register.notice.language, interests, publicUrl });
      return reply.code(202).send({ status: 'confirmation-sent' as const });
    },
  );

  app.get('/newsletter/confirm', { schema: { hide: true, querystring: TokenQuery } }, async (req, reply) => {
    newsletterOf(ctx);
    const s = strings(langOf(req.query));
    if (!(await readLink(ctx, 'confirm', req.query.token))) return page(reply, 404, s.lang, s.confirmTitle, paragraph(s.badLink));
    return page(reply, 200, s.lang, s.confirmTitle, `${paragraph(s.confirmIntro)}${button('/newsletter/confirm', req.query.token!, s.confirmButton)}`);
  });

  app.post('/newsletter/confirm', { schema: { hide: true, querystring: TokenQuery, body: TokenBody } }, async (req, reply) => {
    const s = strings(langOf(req.query));
    if (!(await confirm(ctx, req.body.token))) return page(reply, 404, s.lang, s.confirmTitle, paragraph(s.badLink));
    return page(reply, 200, s.lang, s.confirmTitle, paragraph(s.confirmed));
  });

  app.get('/unsubscribe', { schema: { hide: true, querystring: TokenQuery } }, async (req, reply) => {
    newsletterOf(ctx);
    const s = strings(langOf(req.query));
    if (!(await readLink(ctx, 'unsubscribe', req.query.token))) return page(reply, 404, s.lang, s.unsubscribeTitle, paragraph(s.badLink));
    return page(
      reply,
      200,
      s.lang,
      s.unsubscribeTitle,
      button(`/unsubscribe?token=${encodeURIComponent(req.query.token!)}`, req.query.token!, s.unsubscribeButton),
    );
  });

  // RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the URL of the List-Unsubscribe header.
  app.post('/unsubscribe', { schema: { hide: true, querystring: TokenQuery, body: TokenBody.nullish() } }, async (req, reply) => {
    const s = strings(langOf(req.query));
    if (!(await unsubscribe(ctx, req.query.token ?? req.body?.token))) return page(reply, 404, s.lang, s.unsubscribeTitle, paragraph(s.badLink));
    return page(reply, 200, s.lang, s.unsubscribeTitle, paragraph(s.unsubscribed));
  });

  app.post(
    '/api/v1/staff/newsletter/issues',
    {
      preValidation: requireStaff(rolesWith('requests.manage')),
      schema: {
        summary: 'Send a newsletter issue to every confirmed subscriber not on the suppression list',
        tags: ['newsletter'],
        body: IssueBody,
        response: { 201: z.object({ queued: z.number().int() }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const queued = await sendIssue(ctx, { ...req.body, publicUrl, actor: staffActor(req.staff?.userId ?? 'unknown') });
      return reply.code(201).send({ queued });
    },
  );
};
