// The data-flow diagram: where data comes from (collection points, other sources) → why we use it (purposes)
// → who receives it (recipients). Transfers needing a safeguard and special-category purposes are marked.
// Mermaid here; SVG, laid out by a simple column layout, in render-diagram-svg.ts.
import type { Register } from '../register/load-register.ts';
import type { RegisterData, Text } from '../register/schema.ts';
import { SOURCE_SUBJECT, transferNeedsSafeguard } from '../register/vocabulary.ts';
import { countryName, joinList } from './describe-terms.ts';
import { pickText } from '../register/text.ts';
import { renderDiagramSvg } from './render-diagram-svg.ts';
import { stringsFor } from './strings.ts';

export interface DiagramNode {
  readonly id: string;
  readonly column: 0 | 1 | 2;
  readonly label: string;
  readonly detail: string;
  /** Special categories the purpose uses ("health data"), if any. */
  readonly special?: string;
  /** "⚠ US — SCC" on recipients whose country needs a transfer safeguard. */
  readonly transferMark?: string;
}

interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly transfer: boolean;
}

export interface Diagram {
  readonly title: string;
  readonly description: string;
  readonly columns: readonly [string, string, string];
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
}

const SAFEGUARD_CODE: Record<string, string> = {
  adequacy: 'adequacy',
  scc: 'SCC',
  idta: 'IDTA',
  'uk-addendum': 'SCC + UK Addendum',
  bcr: 'BCR',
  dpf: 'DPF',
  derogation: 'Art. 49',
};

const s = stringsFor('en');
const t = (text: Text) => pickText(text, 'en');
const nodeId = (prefix: string, key: string) => `${prefix}_${key.replace(/-/g, '_')}`;

function sourceName(r: RegisterData, key: string): string {
  if (key === SOURCE_SUBJECT) return 'the person';
  const found = r.subjects[key] ?? r.sources[key];
  return found ? t(found.title) : key;
}

function buildDiagram(register: RegisterData): Diagram {
  const r = register;
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];

  for (const [key, point] of Object.entries(r.collection)) {
    nodes.push({ id: nodeId('c', key), column: 0, label: t(point.title), detail: `from ${sourceName(r, point.source)}` });
    for (const purpose of point.purposes) if (r.purposes[purpose]) edges.push({ from: nodeId('c', key), to: nodeId('p', purpose), transfer: false });
  }
  for (const [key, source] of Object.entries(r.sources)) {
    nodes.push({ id: nodeId('s', key), column: 0, label: t(source.title), detail: source.public ? 'other source, public' : 'other source' });
  }
  const usedRecipients = new Set<string>();
  for (const [key, purpose] of Object.entries(r.purposes)) {
    const special = [...new Set(purpose.data.flatMap((d) => (r.data[d]?.special ? [s.special[r.data[d].special]] : [])))];
    nodes.push({
      id: nodeId('p', key),
      column: 1,
      label: t(purpose.title),
      detail: s.basisShort[purpose.basis],
      ...(special.length ? { special: joinList(special, 'en') } : {}),
    });
    for (const source of purpose.sources) if (r.sources[source]) edges.push({ from: nodeId('s', source), to: nodeId('p', key), transfer: false });
    for (const recipient of purpose.recipients) {
      const rec = r.recipients[recipient];
      if (!rec) continue;
      usedRecipients.add(recipient);
      edges.push({ from: nodeId('p', key), to: nodeId('r', recipient), transfer: transferNeedsSafeguard(rec.country) });
    }
  }
  for (const key of Object.keys(r.recipients).filter((k) => usedRecipients.has(k))) {
    const rec = r.recipients[key]!;
    const needs = transferNeedsSafeguard(rec.country);
    const safeguard = SAFEGUARD_CODE[rec.transfer?.safeguard ?? ''] ?? 'no safeguard declared';
    nodes.push({
      id: nodeId('r', key),
      column: 2,
      label: t(rec.title),
      detail: `${s.roleShort[rec.role]}, ${countryName(rec.country, 'en')}`,
      ...(needs ? { transferMark: `⚠ ${rec.country} — ${safeguard}` } : {}),
    });
  }

  const abroad = nodes.filter((n) => n.transferMark).map((n) => `${n.label} (${n.transferMark!.slice(2)})`);
  const count = (c: number) => nodes.filter((n) => n.column === c).length;
  const description =
    `${count(0)} collection points and sources feed ${count(1)} purposes, which share data with ${count(2)} recipients.` +
    (abroad.length ? ` Transfers outside the UK/EEA needing a safeguard: ${abroad.join('; ')}.` : ' No transfer needs a safeguard.');
  return {
    title: `Data flows: ${r.controller.name}`,
    description,
    columns: ['Where data comes from', 'Why we use it', 'Who receives it'],
    nodes,
    edges,
  };
}

/** Mermaid label text: quotes and markup characters become Mermaid entity codes. */
function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#amp;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/[\r\n]+/g, ' ');
}

function mermaid(d: Diagram): string {
  const lines = ['flowchart LR'];
  d.columns.forEach((title, column) => {
    lines.push(`  subgraph col${column}["${mermaidText(title)}"]`, '    direction TB');
    for (const n of d.nodes.filter((x) => x.column === column)) {
      const parts = [n.label, n.detail, ...(n.special ? [`◆ special category: ${n.special}`] : []), ...(n.transferMark ? [n.transferMark] : [])];
      lines.push(`    ${n.id}["${parts.map(mermaidText).join('<br/>')}"]`);
    }
    lines.push('  end');
  });
  const transferLinks: number[] = [];
  d.edges.forEach((e, i) => {
    lines.push(`  ${e.from} ${e.transfer ? '-.->' : '-->'} ${e.to}`);
    if (e.transfer) transferLinks.push(i);
  });
  lines.push(
    '  classDef special fill:#fdecea,stroke:#b3261e,stroke-width:2px',
    '  classDef transfer fill:#fff4e5,stroke:#c62828,stroke-width:2px,stroke-dasharray:5 3',
  );
  const special = d.nodes.filter((n) => n.special).map((n) => n.id);
  const transfer = d.nodes.filter((n) => n.transferMark).map((n) => n.id);
  if (special.length) lines.push(`  class ${special.join(',')} special`);
  if (transfer.length) lines.push(`  class ${transfer.join(',')} transfer`);
  if (transferLinks.length) lines.push(`  linkStyle ${transferLinks.join(',')} stroke:#c62828,stroke-width:2px,stroke-dasharray:6 4`);
  return `${lines.join('\n')}\n`;
}

export function renderDiagram(register: Register, format: 'svg' | 'mermaid'): string {
  const diagram = buildDiagram(register);
  return format === 'mermaid' ? mermaid(diagram) : renderDiagramSvg(diagram);
}
