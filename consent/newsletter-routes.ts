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
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import type { Language } from '../register/schema.ts';
import { staffActor } from '../staff/actor.ts';
import { requireStaff } from '../staff/require-staff.ts';
import { rolesWith } from '../staff/roles.ts';
import { confirm, newsletterOf, readLink, sendIssue, strings, subscribe, unsubscribe } from './newsletter.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const SubscribeBody = z.strictObject({
  email: z.string().max(254),
  language: z.enum(['en', 'de']).optional(),
  interests: z.union([z.array(z.string().max(100)).max(20), z.string().max(100)]).optional(),
});
const TokenQuery = z.object({ token: z.string().max(200).optional(), lang: z.enum(['en', 'de']).optional() });
const TokenBody = z.object({ token: z.string().max(200).optional(), 'List-Unsubscribe': z.string().max(50).optional() });
const IssueBody = z.strictObject({ subjectLine: z.string().trim().min(1).max(300), text: z.string().trim().min(1).max(200_000) });

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, lang: Language, title: string, body: string): FastifyReply {
  reply.header('cache-control', 'no-store');
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title>` +
        `<style>body{font:1.05rem/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}button{font:inherit;padding:.6rem 1.4rem;border:2px solid #1a1a1a;border-radius:.3rem;background:#1a1a1a;color:#fff;cursor:pointer}button:focus-visible{outline:3px solid #1d70b8;outline-offset:2px}</style>` +
        `</head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`,
    );
}

const button = (action: string, token: string, label: string) =>
  `<form method="post" action="${esc(action)}"><input type="hidden" name="token" value="${esc(token)}"><button type="submit">${esc(label)}</button></form>`;

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
    if (!(await readLink(ctx, 'confirm', req.query.token))) return page(reply, 404, s.lang, s.confirmTitle, `<p>${esc(s.badLink)}</p>`);
    return page(reply, 200, s.lang, s.confirmTitle, `<p>${esc(s.confirmIntro)}</p>${button('/newsletter/confirm', req.query.token!, s.confirmButton)}`);
  });

  app.post('/newsletter/confirm', { schema: { hide: true, querystring: TokenQuery, body: TokenBody } }, async (req, reply) => {
    const s = strings(langOf(req.query));
    if (!(await confirm(ctx, req.body.token))) return page(reply, 404, s.lang, s.confirmTitle, `<p>${esc(s.badLink)}</p>`);
    return page(reply, 200, s.lang, s.confirmTitle, `<p>${esc(s.confirmed)}</p>`);
  });

  app.get('/unsubscribe', { schema: { hide: true, querystring: TokenQuery } }, async (req, reply) => {
    newsletterOf(ctx);
    const s = strings(langOf(req.query));
    if (!(await readLink(ctx, 'unsubscribe', req.query.token))) return page(reply, 404, s.lang, s.unsubscribeTitle, `<p>${esc(s.badLink)}</p>`);
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
    if (!(await unsubscribe(ctx, req.query.token ?? req.body?.token))) return page(reply, 404, s.lang, s.unsubscribeTitle, `<p>${esc(s.badLink)}</p>`);
    return page(reply, 200, s.lang, s.unsubscribeTitle, `<p>${esc(s.unsubscribed)}</p>`);
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
