// Renders the document model to HTML with the eta templates in templates/. Every interpolation of text uses
// eta's escaping <%= %>; raw <%~ %> is used only for the output of other templates.
import { Eta } from 'eta';
import { fileURLToPath } from 'node:url';
import { safeHref, type Doc, type Section } from './document-model.ts';

const eta = new Eta({
  views: fileURLToPath(new URL('./templates', import.meta.url)),
  cache: true,
  autoEscape: true,
  autoTrim: [false, 'nl'],
});

/** A complete, self-contained page: no scripts, no external resources. */
export function renderHtmlDocument(doc: Doc): string {
  return tidy(eta.render('./document', { doc, safeHref }));
}

/** Sections only (h2 and below), to embed in a page that has its own head and h1. */
export function renderHtmlSections(sections: readonly Section[]): string {
  return tidy(eta.render('./sections', { sections, safeHref }));
}

/** Template control lines leave blank lines behind; drop them so the output reads cleanly. */
function tidy(html: string): string {
  return `${html.replace(/\n\s*\n/g, '\n').trim()}\n`;
}
