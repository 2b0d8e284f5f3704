// Reads a PDF the way a test needs to: its page count and the text its pages draw. Streams are inflated (zlib) when
// compressed; the strings of Tj/TJ operators are decoded through the font in use: an embedded font by its ToUnicode
// map (glyph ids to characters), a standard font as WinAnsi. Enough for the PDFs pdfkit writes, not a general parser.
import { inflateSync } from 'node:zlib';

export interface PdfContent {
  readonly pages: number;
  /** The text of every page, in drawing order; one line per text operator. */
  readonly text: string;
}

interface PdfObject {
  readonly dict: string;
  readonly stream: string | null;
}

function objectsOf(pdf: Buffer): Map<string, PdfObject> {
  const raw = pdf.toString('latin1');
  const objects = new Map<string, PdfObject>();
  const start = /(\d+) 0 obj\s*/g;
  for (let m = start.exec(raw); m; m = start.exec(raw)) {
    const from = m.index + m[0].length;
    const end = raw.indexOf('endobj', from);
    const body = raw.slice(from, end);
    const s = /stream\r?\n/.exec(body);
    let stream: string | null = null;
    if (s && body.lastIndexOf('endstream') > s.index) {
      const dict = body.slice(0, s.index);
      const length = /\/Length\s+(\d+)/.exec(dict);
      const at = from + s.index + s[0].length;
      const bytes = pdf.subarray(at, length ? at + Number(length[1]) : from + body.lastIndexOf('endstream'));
      stream = (/\/FlateDecode/.test(dict) ? inflateSync(bytes) : bytes).toString('latin1');
    }
    objects.set(m[1]!, { dict: s ? body.slice(0, s.index) : body, stream });
  }
  return objects;
}

/** A ToUnicode CMap as pdfkit writes it: bfrange lines with an array of targets, or bfchar pairs. */
function parseCmap(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  const hexText = (h: string) => String.fromCharCode(...(h.match(/[0-9a-fA-F]{4}/g) ?? []).map((x) => Number.parseInt(x, 16)));
  for (const [, from, , targets] of cmap.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*\[([^\]]*)\]/g)) {
    const codes = targets!.match(/<[0-9a-fA-F\s]*>/g) ?? [];
    for (const [i, t] of codes.entries()) map.set(Number.parseInt(from!, 16) + i, hexText(t.slice(1, -1)));
  }
  for (const block of cmap.match(/beginbfchar([\s\S]*?)endbfchar/g) ?? [])
    for (const [, code, target] of block.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(Number.parseInt(code!, 16), hexText(target!));
  return map;
}

const WIN_ANSI: Record<number, string> = { 128: '€', 133: '…', 145: '‘', 146: '’', 147: '“', 148: '”', 149: '•', 150: '–', 151: '—' };

function decodeLiteral(s: string): string {
  return s.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, e: string) =>
    /^[0-7]/.test(e) ? String.fromCharCode(Number.parseInt(e, 8)) : ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' }[e] ?? e),
  );
}

export function readPdf(pdf: Buffer): PdfContent {
  const objects = objectsOf(pdf);
  const pages = [...objects.values()].filter((o) => /\/Type\s*\/Page\b/.test(o.dict)).length;
  // Font resource names (/F1) to the character maps of their fonts.
  const cmaps = new Map<string, Map<number, string>>();
  for (const o of objects.values()) {
    for (const [, resources] of o.dict.matchAll(/\/Font\s*<<([^>]*)>>/g)) {
      for (const [, name, ref] of resources!.matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
        const toUnicode = /\/ToUnicode\s+(\d+) 0 R/.exec(objects.get(ref!)?.dict ?? '');
        const stream = toUnicode ? objects.get(toUnicode[1]!)?.stream : null;
        if (stream) cmaps.set(name!, parseCmap(stream));
      }
    }
  }
  const lines: string[] = [];
  for (const o of objects.values()) {
    if (o.stream === null || !/\bT[jJ]\b/.test(o.stream)) continue;
    let cmap: Map<number, string> | undefined;
    const ops = /\/(\w+)\s+[\d.]+\s+Tf|\[((?:<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\)|[-\d.\s])*)\]\s*TJ|(<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\))\s*Tj/g;
    for (let op = ops.exec(o.stream); op; op = ops.exec(o.stream)) {
      if (op[1]) {
        cmap = cmaps.get(op[1]);
        continue;
      }
      const strings = (op[2] ?? op[3]!).match(/<[0-9a-fA-F\s]*>|\((?:\\.|[^\\)])*\)/g) ?? [];
      const decode = (s: string) => {
        if (!s.startsWith('<')) return decodeLiteral(s.slice(1, -1));
        const hex = s.slice(1, -1).replace(/\s/g, '');
        if (cmap) return (hex.match(/.{4}/g) ?? []).map((g) => cmap!.get(Number.parseInt(g, 16)) ?? '\uFFFD').join('');
        return [...Buffer.from(hex, 'hex')].map((b) => WIN_ANSI[b] ?? String.fromCharCode(b)).join('');
      };
      lines.push(strings.map(decode).join(''));
    }
  }
  return { pages, text: lines.join('\n') };
}
