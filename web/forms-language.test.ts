// The hosted forms speak the register's language, or the one asked for, with the register's labels: the German
// vendor's contact form and its problems in German; the IT firm's job application takes a CV and says what is wrong
// with one in words a person reads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { multipart, samplePdf, samplePng } from '../test/helpers/sample-files.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let de: TestApp;
let it: TestApp;
before(async () => {
  de = await testApp('image-information-systems');
  it = await testApp('i-image-it');
});
after(async () => {
  await de?.close();
  await it?.close();
});

const summary = (html: string) =>
  [...html.matchAll(/<li><a href="#[^"]+">([^<]+)<\/a><\/li>/g)].map((m) => m[1]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"'));
const post = (t: TestApp, url: string, body: Record<string, string>) =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() });

test('German: the page, each problem with the field label, the consent box by its own words; never a key', async () => {
  const page = await de.app.inject('/forms/contact-form?lang=de');
  assert.match(page.body, /<html lang="de">/);
  assert.match(page.body, /Telefon \(freiwillig\)/);
  assert.match(page.body, />Senden</);
  assert.match(page.body, /href="\/forms\/contact-form\?lang=en"[^>]*>English</, 'a link to the other language');

  const wrong = await post(de, '/forms/contact-form?lang=de', { name: 'Max', email: 'max@', phone: '12', message: 'x'.repeat(5001) });
  assert.equal(wrong.statusCode, 400);
  assert.deepEqual(summary(wrong.body), [
    '„E-Mail-Adresse“ ist keine gültige E-Mail-Adresse.',
    '„Telefon“ ist keine gültige Telefonnummer.',
    '„Ihre Nachricht“ ist länger als 5000 Zeichen.',
    'Bitte füllen Sie „Ihr Anliegen“ aus.',
  ]);
  const noConsent = await post(de, '/forms/contact-form?lang=de', { name: 'Max', email: 'max@example.de', topic: 'Contact', message: 'Hallo' });
  assert.deepEqual(summary(noConsent.body), [
    'Um das Formular zu senden, setzen Sie bitte ein Häkchen bei „Ich willige ein, dass meine Angaben zur Beantwortung …“: Wir verwenden Ihre Angaben nur mit Ihrer Einwilligung.',
  ]);
  assert.doesNotMatch(noConsent.body, /contact-forms/);
  // Without ?lang the register's own language (English here), with the same labels.
  const en = await post(de, '/forms/contact-form', { name: 'Max', email: 'max@example.de', topic: 'Contact', message: 'Hallo' });
  assert.match(summary(en.body)[0]!, /^To send this form, tick “I agree that my details are used to answer this request; …”/);
  const thanks = await post(de, '/forms/contact-form?lang=de', { name: 'Max', email: 'max@example.de', topic: 'Contact', message: 'Hallo', agree: 'yes' });
  assert.equal(thanks.headers.location, '/forms/contact-form/thanks?lang=de');
});

test('the job application: a multipart form with the CV field, its kinds and size said; a wrong file is named by its label', async () => {
  const page = await it.app.inject('/forms/job-application');
  assert.match(page.body, /enctype="multipart\/form-data"/);
  assert.match(page.body, /<input type="file" id="f-cv" name="cv" accept="\.pdf,application\/pdf,\.docx,[^"]*"/);
  assert.match(page.body, /PDF, Word \(\.docx\) or OpenDocument \(\.odt\); at most 5 MB\./);
  const base = { name: 'Ada Lovelace', email: 'ada@example.org', role: 'Engineer' };
  const png = multipart({ ...base, cv: { filename: 'cv.pdf', content: samplePng(), type: 'application/pdf' } });
  const refused = await it.app.inject({ method: 'POST', url: '/forms/job-application', ...png });
  assert.equal(refused.statusCode, 400);
  assert.deepEqual(summary(refused.body), ['The file for Your CV must be PDF, Word (.docx) or OpenDocument (.odt) (we check what the file is, not its name)']);
  assert.match(refused.body, /value="Ada Lovelace"/, 'what was typed comes back');
  assert.match(refused.body, /Choose the file again/);
  const sent = await it.app.inject({
    method: 'POST',
    url: '/forms/job-application',
    ...multipart({ ...base, cv: { filename: 'cv.pdf', content: samplePdf() } }),
  });
  assert.equal(sent.statusCode, 303, sent.body);
});
