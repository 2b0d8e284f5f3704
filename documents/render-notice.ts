// The privacy notice (Arts. 13-14), generated from the register in HTML or Markdown, English or German.
import { INSTALLED, type Capabilities } from '../register/capabilities.ts';
import type { Register } from '../register/load-register.ts';
import type { Language } from '../register/schema.ts';
import { paragraphs, type Doc, type Section } from './document-model.ts';
import { formatDate } from './describe-terms.ts';
import { whatWeCollect, whoWeAre, whyAndBasis } from './notice-about.ts';
import { noticeContext } from './notice-context.ts';
import { changesSection, complaintsSection, extraSections, rightsSection } from './notice-rights.ts';
import {
  automatedSection,
  cookiesSection,
  marketingSection,
  recipientsSection,
  retentionSection,
  securitySection,
  transfersSection,
} from './notice-sharing.ts';
import { renderHtmlDocument } from './render-html.ts';
import { renderMarkdownDocument } from './render-markdown.ts';

export interface NoticeOptions {
  readonly format: 'html' | 'md';
  readonly lang: Language;
  /** What the running system can do; this installation's by default (tests pass others). */
  readonly capabilities?: Capabilities;
}

/** The notice as a document model, for callers that render it themselves. */
function buildNotice(register: Register, lang: Language, capabilities: Capabilities): Doc {
  const ctx = noticeContext(register, lang, capabilities);
  const { controller, notice } = register;
  const optional = (section: Section | undefined) => (section ? [section] : []);
  return {
    lang,
    title: ctx.s.document.title(controller.name),
    heading: ctx.s.document.heading,
    subtitle: ctx.s.document.subtitle(controller.name, notice.version, formatDate(notice.effective, lang)),
    lead: notice.intro ? paragraphs(ctx.t(notice.intro)) : [],
    contents: ctx.s.document.contents,
    sections: [
      whoWeAre(ctx),
      whatWeCollect(ctx),
      whyAndBasis(ctx),
      recipientsSection(ctx),
      transfersSection(ctx),
      retentionSection(ctx),
      securitySection(ctx),
      cookiesSection(ctx),
      ...optional(marketingSection(ctx)),
      ...optional(automatedSection(ctx)),
      rightsSection(ctx),
      complaintsSection(ctx),
      ...extraSections(ctx),
      changesSection(ctx, register.fingerprint),
    ],
  };
}

export function renderNotice(register: Register, options: NoticeOptions): string {
  const doc = buildNotice(register, options.lang, options.capabilities ?? INSTALLED);
  return options.format === 'md' ? renderMarkdownDocument(doc) : renderHtmlDocument(doc);
}
