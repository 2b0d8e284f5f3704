// The public privacy notice, generated from the active register, and the history of notice versions.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../app/app-context.ts';
import { diffRegisters } from '../documents/diff-registers.ts';
import { renderNotice } from '../documents/render-notice.ts';
import { listServedVersions } from '../register/notice-versions-store.ts';
import { LANGUAGES, type Language } from '../register/schema.ts';

/** The foot of a served page: a "Cookie settings" link to the cookie banner (web/consent-client/), and the banner. */
function cookieSettings(lang: Language): string {
  const label = lang === 'de' ? 'Cookie-Einstellungen' : 'Cookie settings';
  return `<p class="cookie-settings"><a href="#cookies" data-consent-settings>${label}</a></p>\n<script src="/consent.js"></script>`;
}

const LangQuery = z.object({ lang: z.enum(LANGUAGES).optional() });

const Change = z.object({ kind: z.string(), key: z.string(), severity: z.enum(['material', 'minor']), text: z.string() });
const Version = z.object({
  fingerprint: z.string(),
  noticeVersion: z.string().nullable(),
  effective: z.string(),
  firstServedAt: z.string(),
  lastServedAt: z.string(),
  active: z.boolean(),
  changesFromPrevious: z.array(Change).nullable(),
});

export const privacyRoutes: FastifyPluginAsync<{ ctx: Pick<AppContext, 'db' | 'register'> }> = async (base, { ctx }) => {
  const app = base.withTypeProvider<ZodTypeProvider>();
  const { register } = ctx;
  // The register is frozen, so each rendering is computed once and reused.
  const cache = new Map<string, string>();
  const notice = (format: 'html' | 'md', lang: Language) => {
    const key = `${format}:${lang}`;
    let text = cache.get(key);
    if (text === undefined) {
      text = renderNotice(register, { format, lang });
      // The served page carries the "Cookie settings" link the notice promises, and the banner it opens.
      if (format === 'html') text = text.replace('</body>', `${cookieSettings(lang)}\n</body>`);
      cache.set(key, text);
    }
    return text;
  };
  const langOf = (q: { lang?: Language | undefined }) => q.lang ?? register.notice.language;

  app.get(
    '/privacy',
    {
      schema: { summary: 'Privacy notice (HTML), generated from the active register', tags: ['privacy'], querystring: LangQuery, produces: ['text/html'] },
    },
    async (req, reply) => reply.type('text/html; charset=utf-8').send(notice('html', langOf(req.query))),
  );

  app.get(
    '/privacy.md',
    {
      schema: { summary: 'Privacy notice (Markdown)', tags: ['privacy'], querystring: LangQuery, produces: ['text/markdown'] },
    },
    async (req, reply) => reply.type('text/markdown; charset=utf-8').send(notice('md', langOf(req.query))),
  );

  app.get(
    '/privacy/versions',
    {
      schema: {
        summary: 'Every register version this installation has served, oldest first, with the changes from the one before',
        tags: ['privacy'],
        response: { 200: z.object({ versions: z.array(Version) }) },
      },
    },
    async () => {
      const served = await listServedVersions(ctx.db);
      const versions = served.map((v, i) => {
        const previous = served[i - 1];
        return {
          fingerprint: v.fingerprint,
          noticeVersion: v.noticeVersion,
          effective: v.effective,
          firstServedAt: v.firstServedAt,
          lastServedAt: v.lastServedAt,
          active: v.fingerprint === register.fingerprint,
          changesFromPrevious: previous ? diffRegisters(previous.register, v.register).map((c) => ({ ...c })) : null,
        };
      });
      return { versions };
    },
  );
};
