// A small document model the generated documents are built in: sections of blocks holding plain text and links.
// The builders decide what to say; render-html.ts and render-markdown.ts decide only how it looks, and escape
// every piece of text on the way out.

/** A run of text, or a link. Text is never markup: renderers escape it. */
export type Inline = string | { readonly text: string; readonly href: string };
export type Rich = readonly Inline[];

export type Block =
  | { readonly kind: 'p'; readonly content: Rich; readonly note?: boolean }
  | { readonly kind: 'h3'; readonly text: string; readonly id?: string }
  | { readonly kind: 'list'; readonly items: readonly Rich[] }
  | { readonly kind: 'dl'; readonly items: readonly { readonly term: string; readonly detail: Rich }[] }
  | { readonly kind: 'address'; readonly lines: readonly Rich[] }
  | {
      readonly kind: 'table';
      readonly caption: string;
      readonly head: readonly string[];
      readonly rows: readonly (readonly Rich[])[];
      /** The first cell of each row names the row (a `<th scope="row">`). */
      readonly rowHeaders?: boolean;
    };

export interface Section {
  readonly id: string;
  readonly heading: string;
  readonly blocks: readonly Block[];
}

export interface Doc {
  readonly lang: string;
  readonly title: string;
  readonly heading: string;
  readonly subtitle?: string;
  readonly lead: readonly Block[];
  /** Label of the table of contents; no table of contents when absent. */
  readonly contents?: string;
  readonly sections: readonly Section[];
  readonly footer?: readonly Block[];
}

export const p = (...content: Inline[]): Block => ({ kind: 'p', content });
export const note = (...content: Inline[]): Block => ({ kind: 'p', content, note: true });
export const link = (text: string, href: string): Inline => ({ text, href });

/** Only links a reader can safely follow: web pages, email and telephone. Anything else is shown as text. */
export function safeHref(href: string): string | undefined {
  return /^(https?:\/\/|mailto:|tel:)/i.test(href) ? href : undefined;
}

export function mailto(email: string): Inline {
  return link(email, `mailto:${email}`);
}

export function tel(phone: string): Inline {
  return link(phone, `tel:${phone.replace(/[^+\d]/g, '')}`);
}

/** Free text from the register split into paragraphs at blank lines, its web addresses made links. */
export function paragraphs(text: string): Block[] {
  return text
    .split(/\n\s*\n/)
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => p(...linkified(t)));
}

/** A web address ends before trailing punctuation ("see https://example.com."). */
const WEB_ADDRESS = /https?:\/\/[^\s<>"]*[^\s<>".,;:!?)'’]/g;

function linkified(text: string): Inline[] {
  const out: Inline[] = [];
  let at = 0;
  for (const m of text.matchAll(WEB_ADDRESS)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(link(m[0], m[0]));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
