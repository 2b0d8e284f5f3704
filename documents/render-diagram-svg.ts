// Lays the data-flow diagram out in three columns and draws it as a self-contained, accessible SVG:
// no scripts, no external fonts or images, every piece of text XML-escaped.
import type { Diagram, DiagramNode } from './render-diagram.ts';

const MARGIN = 24;
const NODE_WIDTH = 270;
const GAP_X = 130;
const GAP_Y = 16;
const LINE = 17;
const PAD = 10;
/** Characters per line at the label's bold 13px and the detail's 12px, within the node's inner width. */
const LABEL_CHARS = 31;
const DETAIL_CHARS = 37;
const TOP = 92;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Greedy word wrap; words longer than a line are cut. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (current) lines.push(current), (current = '');
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!current) current = word;
    else if (current.length + 1 + word.length <= width) current += ` ${word}`;
    else lines.push(current), (current = word);
  }
  if (current) lines.push(current);
  return lines.length ? lines : [''];
}

interface Line {
  readonly text: string;
  readonly cls: string;
}

interface Placed {
  readonly node: DiagramNode;
  readonly x: number;
  readonly y: number;
  readonly height: number;
  readonly lines: readonly Line[];
}

function linesOf(node: DiagramNode): Line[] {
  return [
    ...wrap(node.label, LABEL_CHARS).map((text) => ({ text, cls: 'label' })),
    ...wrap(node.detail, DETAIL_CHARS).map((text) => ({ text, cls: 'detail' })),
    ...(node.special ? wrap(`◆ special category: ${node.special}`, DETAIL_CHARS).map((text) => ({ text, cls: 'special-mark' })) : []),
    ...(node.transferMark ? [{ text: node.transferMark, cls: 'transfer-mark' }] : []),
  ];
}

/**
 * Purposes keep the register's order; sources and recipients are sorted by the mean position of the purposes
 * they connect to (the barycentre heuristic), which removes most edge crossings.
 */
function ordered(d: Diagram): DiagramNode[][] {
  const purposes = d.nodes.filter((n) => n.column === 1);
  const rank = new Map(purposes.map((n, i) => [n.id, i]));
  const centre = (node: DiagramNode) => {
    const linked = d.edges.flatMap((e) => (e.from === node.id ? [e.to] : e.to === node.id ? [e.from] : [])).flatMap((id) => rank.get(id) ?? []);
    return linked.length ? linked.reduce((a, b) => a + b, 0) / linked.length : Number.POSITIVE_INFINITY;
  };
  const byCentre = (column: number) =>
    d.nodes
      .filter((n) => n.column === column)
      .map((n, i) => ({ n, i, c: centre(n) }))
      .sort((a, b) => a.c - b.c || a.i - b.i)
      .map((x) => x.n);
  return [byCentre(0), purposes, byCentre(2)];
}

function layout(d: Diagram): { placed: Map<string, Placed>; height: number } {
  const columns = ordered(d).map((nodes) =>
    nodes.map((node) => {
      const lines = linesOf(node);
      return { node, lines, height: PAD * 2 + lines.length * LINE };
    }),
  );
  const columnHeight = (col: { height: number }[]) => col.reduce((sum, n) => sum + n.height, 0) + Math.max(0, col.length - 1) * GAP_Y;
  const tallest = Math.max(0, ...columns.map(columnHeight));
  const placed = new Map<string, Placed>();
  columns.forEach((col, c) => {
    // Shorter columns are centred against the tallest, which keeps most edges short and level.
    let y = TOP + (tallest - columnHeight(col)) / 2;
    const x = MARGIN + c * (NODE_WIDTH + GAP_X);
    for (const n of col) {
      placed.set(n.node.id, { ...n, x, y });
      y += n.height + GAP_Y;
    }
  });
  return { placed, height: TOP + tallest };
}

function nodeSvg(p: Placed): string {
  const cls = ['node', p.node.special ? 'special' : '', p.node.transferMark ? 'abroad' : ''].filter(Boolean).join(' ');
  const texts = p.lines
    .map((line, i) => `<text class="${line.cls}" x="${p.x + PAD}" y="${p.y + PAD + (i + 1) * LINE - 4}">${escapeXml(line.text)}</text>`)
    .join('\n');
  return `<g class="${cls}">\n<rect x="${p.x}" y="${p.y}" width="${NODE_WIDTH}" height="${p.height}" rx="6"/>\n${texts}\n</g>`;
}

export function renderDiagramSvg(d: Diagram): string {
  const { placed, height: bodyHeight } = layout(d);
  const width = MARGIN * 2 + 3 * NODE_WIDTH + 2 * GAP_X;
  const legendY = bodyHeight + 36;
  const height = legendY + 96;

  const edges = d.edges.flatMap((e) => {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) return [];
    const x1 = a.x + NODE_WIDTH;
    const y1 = a.y + a.height / 2;
    const x2 = b.x - 2;
    const y2 = b.y + b.height / 2;
    const bend = GAP_X / 2;
    return [
      `<path class="edge${e.transfer ? ' transfer' : ''}" d="M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}" marker-end="url(#${e.transfer ? 'arrow-transfer' : 'arrow'})"/>`,
    ];
  });

  const headers = d.columns.map((title, c) => `<text class="column" x="${MARGIN + c * (NODE_WIDTH + GAP_X)}" y="${TOP - 16}">${escapeXml(title)}</text>`);
  const legend = [
    `<g class="legend" transform="translate(${MARGIN},${legendY})">`,
    '<text class="column" x="0" y="0">Legend</text>',
    '<path class="edge" d="M0,22 H44" marker-end="url(#arrow)"/><text class="detail" x="56" y="26">data flows to</text>',
    '<path class="edge transfer" d="M0,46 H44" marker-end="url(#arrow-transfer)"/><text class="detail" x="56" y="50">transfer outside the UK/EEA that needs a safeguard (country — safeguard)</text>',
    '<rect class="swatch" x="0" y="62" width="44" height="18" rx="4"/><text class="detail" x="56" y="75">purpose using special category data (◆)</text>',
    '</g>',
  ];

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="diagram-title diagram-desc">`,
    `<title id="diagram-title">${escapeXml(d.title)}</title>`,
    `<desc id="diagram-desc">${escapeXml(d.description)}</desc>`,
    '<defs>',
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#5f6368"/></marker>',
    '<marker id="arrow-transfer" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#c62828"/></marker>',
    '<style>',
    'text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:13px;fill:#1b1b1b}',
    '.title{font-size:18px;font-weight:700}.column{font-size:14px;font-weight:700;fill:#3c4043}',
    '.label{font-weight:600}.detail{font-size:12px;fill:#4f5661}',
    '.special-mark{font-size:12px;fill:#b3261e;font-weight:600}.transfer-mark{font-size:12px;fill:#c62828;font-weight:700}',
    '.node rect{fill:#f1f3f6;stroke:#9aa0a6;stroke-width:1}.node.special rect,.swatch{fill:#fdecea;stroke:#b3261e;stroke-width:2}',
    '.node.abroad rect{fill:#fff4e5;stroke:#c62828;stroke-width:2;stroke-dasharray:5 3}',
    '.edge{fill:none;stroke:#7a8088;stroke-width:1.4}.edge.transfer{stroke:#c62828;stroke-width:2;stroke-dasharray:6 4}',
    '</style>',
    '</defs>',
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text class="title" x="${MARGIN}" y="36">${escapeXml(d.title)}</text>`,
    ...headers,
    ...edges,
    ...[...placed.values()].map(nodeSvg),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
