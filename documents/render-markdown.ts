// Renders the document model to GitHub-flavoured Markdown. Text is escaped so that register text can never
// become markup (links, emphasis, raw HTML) or break a table.
import type { Block, Doc, Inline, Rich, Section } from './document-model.ts';
import { safeHref } from './document-model.ts';

/** Backslash-escapes the characters that Markdown or GFM would read as syntax. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~&#]/g, '\\$&');
}

function inline(part: Inline): string {
  if (typeof part === 'string') return escapeMarkdown(part);
  const href = safeHref(part.href);
  if (!href) return escapeMarkdown(part.text);
  return `[${escapeMarkdown(part.text)}](<${href.replace(/[<>\s]/g, encodeURIComponent)}>)`;
}

function rich(r: Rich): string {
  // One line per block; a leading "1." or "- " in register text must not start a list.
  return r
    .map(inline)
    .join('')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/^(\d+)([.)])/, '$1\\$2')
    .replace(/^([-+=])/, '\\$1');
}

function cell(r: Rich): string {
  return rich(r) || ' ';
}

function block(b: Block): string {
  switch (b.kind) {
    case 'p':
      return b.note ? `_${rich(b.content)}_` : rich(b.content);
    case 'h3':
      return `${b.id ? `<a id="${b.id}"></a>\n\n` : ''}### ${escapeMarkdown(b.text)}`;
    case 'list':
      return b.items.map((i) => `- ${rich(i)}`).join('\n');
    case 'dl':
      return b.items.map((i) => `- **${escapeMarkdown(i.term)}${/[?:!]$/.test(i.term) ? '' : ':'}** ${rich(i.detail)}`).join('\n');
    case 'address':
      return b.lines.map(rich).join('\\\n');
    case 'table': {
      const head = `| ${b.head.map((h) => escapeMarkdown(h)).join(' | ')} |`;
      const rule = `|${b.head.map(() => ' --- ').join('|')}|`;
      const rows = b.rows.map((row) => `| ${row.map((c, i) => (i === 0 && b.rowHeaders ? `**${cell(c)}**` : cell(c))).join(' | ')} |`);
      return [`**${escapeMarkdown(b.caption)}**`, '', head, rule, ...rows].join('\n');
    }
  }
}

export function renderMarkdownSections(sections: readonly Section[], level = 2): string {
  const hashes = '#'.repeat(level);
  return sections.map((s) => [`<a id="${s.id}"></a>`, `${hashes} ${escapeMarkdown(s.heading)}`, ...s.blocks.map(block)].join('\n\n')).join('\n\n');
}

export function renderMarkdownDocument(doc: Doc): string {
  const parts: string[] = [`# ${escapeMarkdown(doc.heading)}`];
  if (doc.subtitle) parts.push(`_${escapeMarkdown(doc.subtitle)}_`);
  parts.push(...doc.lead.map(block));
  if (doc.contents) {
    parts.push(`**${escapeMarkdown(doc.contents)}**`, doc.sections.map((s, i) => `${i + 1}. [${escapeMarkdown(s.heading)}](#${s.id})`).join('\n'));
  }
  parts.push(renderMarkdownSections(doc.sections));
  if (doc.footer?.length) parts.push('---', ...doc.footer.map(block));
  return `${parts.join('\n\n')}\n`;
}
