// Reads a PDF the way a test needs to: its page count and the text its pages draw. Page content streams are
// inflated (zlib) when compressed, and the strings of their Tj/TJ operators decoded: enough for the PDFs pdfkit
// writes with its standard fonts (hex strings in WinAnsi), not a general PDF parser.
import { inflateSync } from 'node:zlib';

export interface PdfContent {
  readonly pages: number;
  /** The text of every page, in drawing order; one line per text operator. */
  readonly text: string;
}

function decodeHex(hex: string): string {
  const bytes = Buffer.from(hex.replace(/\s/g, ''), 'hex');
  // WinAnsi matches Latin-1 for every character the answers use except a few punctuation marks.
  const winAnsi: Record<number, string> = { 128: '€', 133: '…', 145: '‘', 146: '’', 147: '“', 148: '”', 149: '•', 150: '–', 151: '—' };
  return [...bytes].map((b) => winAnsi[b] ?? String.fromCharCode(b)).join('');
}

function decodeLiteral(s: string): string {
  return s.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, e: string) =>
    /^[0-7]/.test(e) ? String.fromCharCode(Number.parseInt(e, 8)) : ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' }[e] ?? e),
  );
}

export function readPdf(pdf: Buffer): PdfContent {
  const raw = pdf.toString('latin1');
  const pages = (raw.match(/\/Type\s*\/Page\b/g) ?? []).length;
  const lines: string[] = [];
  const stream = /<<([\s\S]*?)>>\s*stream\r?\n/g;
  for (let m = stream.exec(raw); m; m = stream.exec(raw)) {
    const start = m.index + m[0].length;
    const length = /\/Length\s+(\d+)/.exec(m[1]!);
    const end = length ? start + Number(length[1]) : raw.indexOf('endstream', start);
    const bytes = pdf.subarray(start, end);
    let content: string;
    try {
      content = (/\/FlateDecode/.test(m[1]!) ? inflateSync(bytes) : bytes).toString('latin1');
    } catch {
      continue;
    }
    const ops = /\[((?:<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\)|[-\d.\s])*)\]\s*TJ|(<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\))\s*Tj/g;
    for (let op = ops.exec(content); op; op = ops.exec(content)) {
      const parts = op[1] ?? op[2]!;
      const strings = parts.match(/<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\)/g) ?? [];
      lines.push(strings.map((s) => (s.startsWith('<') ? decodeHex(s.slice(1, -1)) : decodeLiteral(s.slice(1, -1)))).join(''));
    }
  }
  return { pages, text: lines.join('\n') };
}
