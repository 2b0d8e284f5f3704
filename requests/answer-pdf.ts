// The access answer as a PDF (pdfkit): the same content under the same headings as the HTML page, from the same
// strings; the records as a table (a withheld record shows why, never its value), numbered pages. Built in memory
// for each download and never stored, like the page. Set in Noto Sans, embedded (subset): the PDF standard fonts
// know only Western European letters, and would garble a Polish, Czech or Greek name.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import type { Language } from '../register/schema.ts';
import type { AccessAnswer } from './access-answer.ts';
import { ANSWER_STRINGS } from './answer-strings.ts';

const require = createRequire(import.meta.url);
const FONTS = {
  regular: readFileSync(require.resolve('@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf')),
  bold: readFileSync(require.resolve('@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf')),
  italic: readFileSync(require.resolve('@expo-google-fonts/noto-sans/400Regular_Italic/NotoSans_400Regular_Italic.ttf')),
};

const MARGIN = 50;
const FOOTER = 30;
const GREY = '#57606a';
const WITHHELD = '#8a4b00';

export interface AnswerPdfOptions {
  /** Deflate the page streams (on by default; tests may read plain streams). */
  readonly compress?: boolean;
}

export function renderAnswerPdf(answer: AccessAnswer, lang: Language, options: AnswerPdfOptions = {}): Promise<Buffer> {
  const t = ANSWER_STRINGS[lang];
  const answeredOn = answer.request.answeredAt.slice(0, 10);
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER },
    bufferPages: true,
    compress: options.compress ?? true,
    lang,
    displayTitle: true,
    info: { Title: t.title, Author: answer.controller.name, CreationDate: new Date(answer.request.answeredAt) },
  });
  doc.registerFont('regular', FONTS.regular);
  doc.registerFont('bold', FONTS.bold);
  doc.registerFont('italic', FONTS.italic);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 2 * MARGIN;

  const heading = (text: string) => {
    doc.moveDown(1).font('bold').fontSize(13).fillColor('black').text(text, MARGIN, doc.y, { width });
    doc
      .moveTo(MARGIN, doc.y + 1)
      .lineTo(MARGIN + width, doc.y + 1)
      .lineWidth(0.5)
      .strokeColor('#d0d7de')
      .stroke();
    doc.moveDown(0.4).font('regular').fontSize(10);
  };
  const paragraph = (text: string) => doc.font('regular').fontSize(10).fillColor('black').text(text, MARGIN, doc.y, { width }).moveDown(0.3);
  const list = (items: readonly string[]) => {
    if (items.length === 0) return;
    doc
      .font('regular')
      .fontSize(10)
      .fillColor('black')
      .list([...items], MARGIN, doc.y, { width, bulletRadius: 1.5, textIndent: 10 });
    doc.moveDown(0.3);
  };

  doc.font('bold').fontSize(18).text(t.title, { width });
  doc
    .font('regular')
    .fontSize(9)
    .fillColor(GREY)
    .text(answer.controller.name + (answer.controller.contact ? ` · ${answer.controller.contact}` : ''));
  doc.moveDown(0.6);
  paragraph(t.intro(answer.controller.name, answer.request.receivedOn, answeredOn));
  if (answer.withheldCount > 0) doc.fillColor(WITHHELD).text(t.withheld(answer.withheldCount), { width }).fillColor('black');

  heading(t.data);
  if (answer.records.length === 0) paragraph(t.none);
  else {
    const header = (text: string) => ({ text, type: 'TH' as const, font: { src: 'bold' }, backgroundColor: '#f6f8fa' });
    const table = doc.table({
      columnStyles: [width * 0.27, width * 0.39, width * 0.13, width * 0.21],
      defaultStyle: { border: { bottom: 0.5 }, borderColor: '#d0d7de', padding: [3, 4], textOptions: { lineGap: 1 } },
    });
    table.row([header(t.item), header(t.value), header(t.collected), header(t.kept)]);
    for (const r of answer.records) {
      const value = r.withheld
        ? { text: t.reason[r.withheld], textColor: WITHHELD, font: { src: 'italic' } }
        : {
            text: (r.value ?? '') + (r.file ? ` (${r.file.mediaType}, ${Math.ceil(r.file.size / 1024)} KB)` : '') + (r.restricted ? `\n(${t.restricted})` : ''),
          };
      table.row([`${r.field}\n${r.categoryTitle}`, value, r.collectedAt.slice(0, 10), r.keptUntil.map((k) => k.until).join('\n')]);
    }
    table.end();
    doc.x = MARGIN;
  }

  heading(t.purposes);
  list(
    answer.purposes.map(
      (p) => `${p.title}: ${p.basis}${p.interest ? ` (${p.interest})` : ''}${p.law ? ` (${p.law})` : ''}${p.condition ? `; ${p.condition}` : ''}`,
    ),
  );
  heading(t.categories);
  list(answer.categories.map((c) => c.title));
  heading(t.recipients);
  list(answer.recipients.declared.map((r) => `${r.title} (${r.country})${r.names.length ? `: ${r.names.join(', ')}` : ''}`));
  if (answer.recipients.disclosed.length > 0) {
    paragraph(t.disclosed);
    list(answer.recipients.disclosed.map((d) => `${d.on}: ${d.title}`));
  }
  heading(t.retention);
  list(answer.retention.map((r) => r.rule));
  heading(t.sources);
  list(answer.sources);
  heading(t.transfers);
  if (answer.transfers.length === 0) paragraph(t.noTransfers);
  else list(answer.transfers.map((x) => `${x.recipient} (${x.country}): ${x.safeguard}${x.copy ? `. ${x.copy}` : ''}`));
  heading(t.automated);
  if (answer.automatedDecisions.length === 0) paragraph(t.noAutomated);
  else list(answer.automatedDecisions.map((x) => `${x.logic}: ${x.significance}`));
  heading(t.rights);
  list(answer.rights);
  paragraph(answer.complaint);

  // Page numbers last, when the count is known; written inside the footer band, so no page is added for them.
  const { start, count } = doc.bufferedPageRange();
  for (let i = start; i < start + count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('regular')
      .fontSize(8)
      .fillColor(GREY)
      .text(`${answer.controller.name} · ${t.title} · ${answeredOn}`, MARGIN, doc.page.height - MARGIN, { width, lineBreak: false })
      .text(t.page(i - start + 1, count), MARGIN, doc.page.height - MARGIN, { width, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}
