// The access answer as a PDF, downloaded by the requester's link like the page: a real PDF (header, pages, numbered),
// with the records' values and every Art. 15 heading of the page, a withheld health record marked with its reason and
// its value nowhere in the file; in the register's language; never cached.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessAnswer } from './access-answer.ts';
import { renderAnswerPdf } from './answer-pdf.ts';
import { ANSWER_STRINGS } from './answer-strings.ts';
import { readPdf } from '../test/helpers/pdf-text.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let sink: SmtpSink;
let dpo: Browser;
let token: string;
let answer: AccessAnswer;
/** The answer staff previewed before issuing it: the held-back records are in it, marked. */
let preview: AccessAnswer;

async function call(method: 'GET' | 'POST', url: string, json?: unknown) {
  return dpo.request({ method, url, html: false, ...(method === 'POST' ? { json: json ?? {}, headers: { 'x-csrf-token': await dpo.csrf() } } : {}) });
}

async function answerLink(to: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    await t.ctx.mailer.flush();
    const raw = sink.received
      .filter((r) => r.envelopeTo.includes(to))
      .at(-1)
      ?.raw.replace(/=\r\n/g, '');
    const m = raw && /privacy-center\/answer\?token=(?:3D)?([A-Za-z0-9_-]{43})/.exec(raw);
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no answer link mailed to ${to}`);
}

before(async () => {
  sink = await smtpSink();
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z', smtp: { url: sink.url(), from: 'privacy@idt.example' } });
  dpo = await t.signedIn('dpo');
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('pdf', 1, 'Withheld-zygoma-area') });
  assert.equal(res.statusCode, 201, res.body);
  const created = await call('POST', '/api/v1/staff/requests', {
    type: 'access',
    channel: 'email',
    receivedAt: '2027-01-25',
    email: 'p1.pdf@example.com',
    verified: { method: 'document-seen', seen: 'passport' },
  });
  const id = created.json().id as string;
  assert.equal((await call('POST', `/api/v1/staff/requests/${id}/link`, { subject: res.json().subjectId })).statusCode, 200);
  // No health professional's opinion: the clinician's scan request is held back.
  preview = (await call('GET', `/api/v1/staff/requests/${id}/answer`)).json();
  assert.ok(preview.records.some((r) => r.withheld === 'health-opinion-needed'));
  const issued = await call('POST', `/api/v1/staff/requests/${id}/answer`);
  assert.equal(issued.statusCode, 200, issued.body);
  assert.ok(issued.json().withheld >= 2);
  token = await answerLink('p1.pdf@example.com');
  answer = (await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${token}&format=json` })).json();
});
after(async () => {
  await t?.close();
  await sink?.close();
});

describe('the access answer as a PDF', () => {
  test('is downloaded by the link as an attachment, never cached, and the page offers it', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${token}&format=pdf` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/pdf');
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="answer\.pdf"$/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const pdf = res.rawPayload;
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.subarray(-6).toString('latin1'), /%%EOF/);
    const page = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${token}` });
    assert.match(page.body, /format=pdf/);
    assert.ok((await t.audits()).filter((e) => e.action === 'request.download').length >= 3, 'every download audited, the PDF too');
  });

  test('holds the records and every heading of the page, and no held-back value', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${token}&format=pdf` });
    const { pages, text: lines } = readPdf(res.rawPayload);
    assert.ok(pages > 0);
    // Words a table cell or paragraph wrapped onto the next line read as one text again.
    const text = lines.replace(/ *\n */g, ' ');
    const en = ANSWER_STRINGS.en;
    for (const heading of [en.title, en.data, en.purposes, en.categories, en.recipients, en.retention, en.sources, en.transfers, en.automated, en.rights])
      assert.ok(text.includes(heading), heading);
    for (const value of ['Patient 1', '1980-02-03', 'R-pdf-1']) assert.ok(text.includes(value), value);
    assert.ok(text.includes('Imaging centre staff and radiographers who carry out the scan'));
    assert.ok(text.includes(answer.complaint));
    assert.equal(text.includes('Withheld-zygoma-area'), false, 'the withheld value is nowhere in the PDF');
    assert.ok(text.includes(`Page 1 of ${pages}`));
  });

  test('a held-back record is listed with its reason in place of its value', async () => {
    const pdf = await renderAnswerPdf(preview, 'en');
    const text = readPdf(pdf).text.replace(/ *\n */g, ' ');
    assert.ok(text.includes(ANSWER_STRINGS.en.withheld(preview.withheldCount)));
    assert.ok(text.includes(ANSWER_STRINGS.en.reason['health-opinion-needed']));
    assert.ok(text.includes('scan.area') && text.includes('Patient 1'));
    assert.equal(text.includes('Withheld-zygoma-area'), false);
    assert.equal(pdf.toString('latin1').includes('Withheld-zygoma'), false);
  });

  test('a long answer runs over several numbered pages, in German for a German register', async () => {
    const many: AccessAnswer = {
      ...answer,
      records: Array.from({ length: 80 }, (_, i) => ({ ...answer.records[0]!, id: `r${i}`, value: `Wert Nummer ${i} Größe` })),
    };
    const { pages, text } = readPdf(await renderAnswerPdf(many, 'de'));
    assert.ok(pages >= 3, `${pages} pages`);
    for (let n = 1; n <= pages; n++) assert.ok(text.includes(`Seite ${n} von ${pages}`), `page ${n}`);
    assert.ok(text.includes('Wert Nummer 0 Größe') && text.includes('Wert Nummer 79 Größe'));
    assert.ok(text.includes(ANSWER_STRINGS.de.data) && text.includes(ANSWER_STRINGS.de.rights));
  });

  test('names in any European script are kept as written (an embedded font, not the PDF standard ones)', async () => {
    const names = ['Łukasz Żółć', 'Ελένη Παπαδοπούλου', 'Дмитрий Иванов', 'Zoë O’Brien – “Jo”'];
    const written: AccessAnswer = { ...answer, records: names.map((value, i) => ({ ...answer.records[0]!, id: `n${i}`, value })) };
    const { text } = readPdf(await renderAnswerPdf(written, 'en'));
    for (const name of names) assert.ok(text.includes(name), name);
  });

  test('an answer with nothing held still says so', async () => {
    const { pages, text } = readPdf(await renderAnswerPdf({ ...answer, records: [], withheldCount: 0 }, 'en', { compress: false }));
    assert.ok(pages >= 1);
    // Each page's stream ends with its footer: no page holds its footer alone.
    const perPage = text.split(/Page \d+ of \d+/).slice(0, pages);
    assert.equal(perPage.length, pages);
    for (const page of perPage) assert.ok(page.trim().split('\n').length > 2, page);
    assert.ok(text.includes(ANSWER_STRINGS.en.none));
    assert.equal(text.includes(ANSWER_STRINGS.en.withheld(1).slice(0, 20)), false);
  });
});
