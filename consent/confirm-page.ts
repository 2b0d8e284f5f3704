// The small pages an emailed link opens (the newsletter's, and the confirmation of email consent ticked on a form):
// a title, a sentence and at most one button. Opening a link only ever shows its button; the button's POST acts
// (mail scanners open links, they do not press buttons).
import type { FastifyReply } from 'fastify';
import type { Language } from '../register/schema.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A paragraph of text, escaped. */
export const paragraph = (text: string) => `<p>${esc(text)}</p>`;

/** A page that is never cached (it may stand for one person's link). `body` is HTML made by paragraph() and button(). */
export function linkPage(reply: FastifyReply, status: number, lang: Language, title: string, body: string): FastifyReply {
  reply.header('cache-control', 'no-store');
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><title>${esc(title)}</title>` +
        `<style>body{font:1.05rem/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}button{font:inherit;padding:.6rem 1.4rem;border:2px solid #1a1a1a;border-radius:.3rem;background:#1a1a1a;color:#fff;cursor:pointer}button:focus-visible{outline:3px solid #1d70b8;outline-offset:2px}</style>` +
        `</head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`,
    );
}

/** A form that POSTs the link's token to `action`: the one way a link acts. */
export const button = (action: string, token: string, label: string) =>
  `<form method="post" action="${esc(action)}"><input type="hidden" name="token" value="${esc(token)}"><button type="submit">${esc(label)}</button></form>`;

/** The day a link stops working, in words ("5 December 2026", "5. Dezember 2026"), for the mail that carries it. */
export const linkLapses = (d: Date, lang: Language): string =>
  d.toLocaleDateString(lang === 'de' ? 'de-DE' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
