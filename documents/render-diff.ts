// The change list as plain text, Markdown or an HTML fragment (sections to place inside a page).
import type { Change } from './diff-change.ts';
import { p, type Section } from './document-model.ts';
import { renderHtmlDocument, renderHtmlSections } from './render-html.ts';
import { renderMarkdownSections } from './render-markdown.ts';

const NO_CHANGES = 'No changes for the people this notice addresses.';
const MATERIAL = 'Changes that matter to you';
const MINOR = 'Other changes';

function sections(changes: readonly Change[]): Section[] {
  if (changes.length === 0) return [{ id: 'changes', heading: 'Changes', blocks: [p(NO_CHANGES)] }];
  const group = (severity: Change['severity'], id: string, heading: string): Section[] => {
    const items = changes.filter((c) => c.severity === severity).map((c) => [c.text]);
    return items.length ? [{ id, heading, blocks: [{ kind: 'list', items }] }] : [];
  };
  return [...group('material', 'material-changes', MATERIAL), ...group('minor', 'minor-changes', MINOR)];
}

export function renderDiff(changes: readonly Change[], format: 'text' | 'md' | 'html'): string {
  if (format === 'md') return `${renderMarkdownSections(sections(changes))}\n`;
  if (format === 'html') return renderHtmlSections(sections(changes));
  if (changes.length === 0) return `${NO_CHANGES}\n`;
  const block = (severity: Change['severity'], heading: string) => {
    const list = changes.filter((c) => c.severity === severity);
    return list.length ? [`${heading}:`, ...list.map((c) => `- ${c.text}`)].join('\n') : '';
  };
  return `${[block('material', MATERIAL), block('minor', MINOR)].filter(Boolean).join('\n\n')}\n`;
}

/** The change list as a complete, self-contained HTML page. */
export function renderDiffDocument(changes: readonly Change[], title: string): string {
  return renderHtmlDocument({ lang: 'en', title, heading: title, lead: [], sections: sections(changes) });
}
