// The confirmation of email consent ticked on a public form (consent/email-consent.ts):
//
//   GET  /consent/confirm?token=…[&lang=en|de]   a page with a Confirm button (opening the link confirms nothing)
//   POST /consent/confirm (token)                 confirms: the consent is given by email-link
//
// A link that is not ours, was used, or has run out is a 404 page; nothing is recorded.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import type { Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import { button, linkPage, paragraph } from './confirm-page.ts';
import { confirmationLink, confirmEmailConsent, strings } from './email-consent.ts';
import type { People } from './people.ts';

const TokenQuery = z.object({ token: z.string().max(200).optional(), lang: z.enum(['en', 'de']).optional() });
const TokenBody = z.object({ token: z.string().max(200).optional() });

export const emailConsentRoutes: FastifyPluginAsync<{ ctx: AppContext; people: People }> = async (base, { ctx, people }) => {
  await base.register(formbody, { bodyLimit: 16 * 1024 });
  const app = base.withTypeProvider<ZodTypeProvider>();
  const langOf = (q: { lang?: Language | undefined }): Language => q.lang ?? ctx.register.notice.language;

  app.get('/consent/confirm', { schema: { hide: true, querystring: TokenQuery } }, async (req, reply) => {
    const s = strings(langOf(req.query));
    const link = await confirmationLink(ctx, req.query.token);
    if (!link) return linkPage(reply, 404, s.lang, s.title, paragraph(s.badLink));
    const purpose = pickText(ctx.register.purposes[link.purpose]?.title, s.lang) ?? link.purpose;
    const action = `/consent/confirm${req.query.lang ? `?lang=${req.query.lang}` : ''}`;
    return linkPage(reply, 200, s.lang, s.title, `${paragraph(s.intro(ctx.register.controller.name, purpose))}${button(action, req.query.token!, s.button)}`);
  });

  app.post('/consent/confirm', { schema: { hide: true, querystring: TokenQuery, body: TokenBody } }, async (req, reply) => {
    const s = strings(langOf(req.query));
    if (!(await confirmEmailConsent(ctx, people, req.body.token))) return linkPage(reply, 404, s.lang, s.title, paragraph(s.badLink));
    return linkPage(reply, 200, s.lang, s.title, paragraph(s.confirmed));
  });
};
