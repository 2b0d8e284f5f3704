import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_CAPABILITIES, NO_CAPABILITIES } from '../register/capabilities.ts';
import { fixtureVariant, loadFixture } from './fixtures/load-fixture.ts';
import { renderNotice } from './render-notice.ts';

const uk = loadFixture('full-uk.yaml');
const eu = loadFixture('eu.yaml');
const html = renderNotice(uk, { format: 'html', lang: 'en' });
const text = (s: string) =>
  s
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
/** The text of one section, from its h2 to the next. */
const section = (page: string, id: string) => {
  const start = page.indexOf(`<h2 id="${id}"`);
  assert.ok(start >= 0, `section ${id} missing`);
  const end = page.indexOf('<h2 ', start + 1);
  return text(page.slice(start, end < 0 ? undefined : end));
};

test('the HTML notice is one accessible, self-contained page with its sections in the required order', () => {
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<title>Privacy notice: Harbour Imaging Ltd<\/title>/);
  assert.equal(html.match(/<h1[ >]/g)?.length, 1);
  const ids = [...html.matchAll(/<h2 id="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(ids, [
    'who-we-are',
    'what-we-collect',
    'why-and-basis',
    'recipients',
    'transfers',
    'retention',
    'security',
    'cookies',
    'marketing',
    'automated-decisions',
    'your-rights',
    'complaints',
    'links-to-other-websites',
    'changes',
  ]);
  const allIds = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(allIds).size, allIds.length, 'ids are unique');
  const nav = html.slice(html.indexOf('<nav'), html.indexOf('</nav>'));
  for (const id of ids) assert.ok(nav.includes(`href="#${id}"`), `contents link to ${id}`);
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|\ssrc=|@import|url\(/i);
  const tables = html.match(/<table[ >][\s\S]*?<\/table>/g) ?? [];
  assert.ok(tables.length >= 6);
  for (const t of tables) {
    assert.match(t, /^<table role="table">\n<caption>[^<]+<\/caption>/);
    assert.doesNotMatch(t, /<th(?=[\s>])(?! scope="(col|row)")/);
  }
});

test('who we are: controller, address, registration, contacts and the DPO', () => {
  const s = section(html, 'who-we-are');
  for (const expected of [
    'Harbour Imaging Ltd',
    '12 Quay Street, Bristol BS1 4DJ',
    "Information Commissioner's Office (ICO) under number Z1234567",
    'privacy@harbour.example',
    'Our data protection officer',
    'Sam Patel',
    'dpo@harbour.example',
  ]) {
    assert.ok(s.includes(expected), expected);
  }
  assert.ok(s.includes('We also handle information for other organisations'), 'processor role explained');
});

test('what we collect: fields by label, their categories, who supplies them, and other sources', () => {
  const s = section(html, 'what-we-collect');
  assert.ok(s.includes('Who gives it to us Referring dentists, not you directly'));
  assert.ok(s.includes('Patient name Patient name and date of birth Required'));
  assert.ok(s.includes('Clinical area Clinical details of the scan requested Optional'), 'unlabelled field named from its key');
  assert.ok(s.includes('Credit reference agencies (United Kingdom) Name, email and telephone number; Credit check result No'));
  assert.ok(s.includes('Yes: health data'));
});

test('why and on what basis: plain-word basis, interest, law, Art. 9 condition, optional consent', () => {
  const s = section(html, 'why-and-basis');
  assert.ok(s.includes('It is necessary for a contract with you, or for steps you asked us to take before entering into one (Article 6(1)(b) UK GDPR)'));
  assert.ok(
    s.includes(
      'It includes health data, which we use only to provide health care, by or under the responsibility of professionals bound by confidentiality (Article 9(2)(h) UK GDPR)',
    ),
  );
  assert.ok(s.includes('Our legitimate interest Knowing which pages are useful'));
  assert.ok(s.includes('The law that requires it Companies Act 2006'));
  assert.ok(s.includes('No. We do this only with your consent, and you can withdraw it at any time'));
  assert.ok(s.includes('How long your consent lasts 2 years; after that we ask you again.'));
  assert.ok(s.includes('We also receive it from Credit reference agencies'));
});

test('recipients, transfers with country names and safeguards, retention phrased from the rules', () => {
  const r = section(html, 'recipients');
  assert.ok(r.includes('Reporting radiologists Uses it for its own purposes, as an independent controller Bristol Radiology Partners United Kingdom'));
  const t = section(html, 'transfers');
  assert.ok(t.includes('Image hosting provider United States Standard contractual clauses with the UK Addendum. Email dpo@harbour.example for a copy'));
  assert.ok(t.includes('Google Analytics United States The Data Privacy Framework'));
  assert.ok(!t.includes('Reporting radiologists'), 'a UK recipient is not a transfer for a UK controller');
  const k = section(html, 'retention');
  assert.ok(
    k.includes(
      '8 years after your scan is completed, or until your 25th birthday if that is later, then moved to secure off-site storage and deleted 3 years later NHS Records Management Code of Practice',
    ),
  );
  assert.ok(k.includes('Until you withdraw your consent'));
  assert.ok(k.includes('Until your visit ends, then deleted'));
});

test('cookie table: purpose, provider, duration in words, consent and the UK exemption', () => {
  const s = section(html, 'cookies');
  assert.ok(s.includes('sid Strictly necessary us until you close your browser No'));
  assert.ok(s.includes('cookie_choice Strictly necessary us 6 months No'), 'the cookie the banner keeps the choice in');
  assert.ok(s.includes('hi_stats Count visits to our pages us 1 year No: exempt (statistics); you can object'));
  assert.ok(s.includes('_ga, _ga_* Understand how our website is used Google Analytics 13 months Yes'));
  assert.ok(s.includes("You can also block or delete cookies in your browser's settings."));
});

test('a promise appears only when the register makes it and the installation can keep it', () => {
  const promised = fixtureVariant('full-uk.yaml', (d) => {
    d.notice.promises = ['cookie-settings', 'global-privacy-control', 'change-notices', 'privacy-centre', 'complaint-handling'];
  });
  const sentences = [
    'the "Cookie settings" link at the foot of every page',
    'Global Privacy Control',
    'we tell you before it takes effect',
    'in our privacy centre',
    'We acknowledge your complaint within 30 days',
  ];
  const able = text(renderNotice(promised, { format: 'html', lang: 'en', capabilities: ALL_CAPABILITIES }));
  for (const sentence of sentences) assert.ok(able.includes(sentence), `kept promise: ${sentence}`);
  // The same register on an installation without the machinery, or an able installation without the promise.
  for (const page of [
    renderNotice(promised, { format: 'html', lang: 'en', capabilities: NO_CAPABILITIES }),
    renderNotice(uk, { format: 'html', lang: 'en', capabilities: ALL_CAPABILITIES }),
  ]) {
    const all = text(page);
    for (const sentence of sentences) assert.ok(!all.includes(sentence), `no promise: ${sentence}`);
    assert.ok(all.includes('Each version shows the date it took effect'));
    assert.ok(all.includes('If you are unhappy with how we use your information, please tell us'));
  }
  // A promise dated by law is phrased from the notice date: future tense before 19 June 2026.
  const early = fixtureVariant('full-uk.yaml', (d) => {
    d.notice.promises = ['complaint-handling'];
    d.notice.effective = '2026-03-01';
  });
  const before = section(renderNotice(early, { format: 'html', lang: 'en', capabilities: ALL_CAPABILITIES }), 'complaints');
  assert.ok(before.includes('From 19 June 2026, we will acknowledge complaints within 30 days'));
  assert.ok(!before.includes('We acknowledge your complaint'));
});

test('marketing channels and automated decisions are explained when the register has them', () => {
  assert.ok(section(html, 'marketing').includes('Email: only if you have agreed to it (opt-in)'));
  assert.ok(section(html, 'automated-decisions').includes('A score from the agency below a threshold declines credit terms'));
  const euHtml = renderNotice(eu, { format: 'html', lang: 'en' });
  assert.doesNotMatch(euHtml, /id="marketing"|id="automated-decisions"/);
  assert.ok(section(euHtml, 'cookies').includes('We do not use cookies'));
});

test('rights apply according to the bases used, with how to exercise them', () => {
  const s = section(html, 'your-rights');
  for (const right of [
    'Access',
    'Rectification',
    'Erasure',
    'Restriction',
    'Objection',
    'Data portability',
    'Withdrawing consent',
    'Decisions made by computer',
    'Complaints',
  ])
    assert.ok(s.includes(right), right);
  // Access and rectification in general, with the UK exemptions and, as health data is held, the serious-harm rule.
  assert.ok(s.includes('This right applies in general, with some exceptions set out in the Data Protection Act 2018 (Schedules 2 to 4)'));
  assert.ok(s.includes('we first ask an appropriate health professional') && s.includes('serious harm'));
  assert.ok(!s.includes('always applies'));
  // Portability: only what the person gave through a form, on consent or contract; not cookies, sessions or law.
  const portability = /This applies to what you gave us for: ([^.]+)\./.exec(s)?.[1] ?? '';
  assert.ok(portability.includes('Arrange the scan') && portability.includes('Check the credit'), portability);
  for (const not of ['Tell you about new services', 'Understand how our website', 'Keep you signed in', 'Keep our accounts', 'Count visits'])
    assert.ok(!portability.includes(not), `no portability for ${not}`);
  assert.ok(s.includes('by automated means'));
  assert.ok(s.includes('This applies to: Count visits to our pages. We will stop unless'));
  assert.ok(s.includes('You can object to direct marketing at any time; we will always stop.'));
  // Erasure: the purpose kept by law is named; health records only when that purpose holds health data.
  assert.ok(s.includes('We cannot delete information the law requires us to keep, for as long as it requires: Keep our accounts.'));
  assert.ok(!s.includes('health records'), 'the accounts hold no health data');
  for (const how of [
    'rights@harbour.example',
    'https://harbour.example/privacy-centre',
    'Data Protection Officer, 12 Quay Street',
    '0117 496 0002',
    'reasonable doubts',
    'The first copy of your information is free; further copies cost £10',
    'one month to answer',
    'two further months',
  ]) {
    assert.ok(s.includes(how), how);
  }
  const healthByLaw = fixtureVariant('full-uk.yaml', (d) => {
    d.purposes.accounts.data = ['contact', 'clinical'];
    d.purposes.accounts.condition = 'public-health';
    d.controller['health-professional'] = true;
  });
  const h = section(renderNotice(healthByLaw, { format: 'html', lang: 'en' }), 'your-rights');
  assert.ok(h.includes('This includes health records during their retention period.'));
  assert.ok(h.includes('in the opinion of our health professionals'));
  const eus = section(renderNotice(eu, { format: 'html', lang: 'en' }), 'your-rights');
  assert.ok(eus.includes('This right applies in general, with some exceptions: for example, we do not give you a copy'));
  assert.ok(!eus.includes('serious harm') && !eus.includes('Data Protection Act'));
  assert.ok(eus.includes('We do not use your information on the basis of legitimate interests or a public task'));
  assert.ok(eus.includes('We do not currently rely on your consent.'));
  assert.ok(eus.includes('We ask for proof of identity before we act on a request'));
});

test('complaints: the ICO at any time; EU routes of residence, work and infringement, with the register authority and list', () => {
  const s = section(html, 'complaints');
  assert.ok(s.includes("You can complain to the Information Commissioner's Office (ICO), the UK supervisory authority, at any time"));
  assert.ok(!s.includes('not satisfied'));
  for (const ico of [
    "Information Commissioner's Office",
    'Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF',
    'https://ico.org.uk/make-a-complaint/',
    '0303 123 1113',
  ])
    assert.ok(s.includes(ico), ico);
  assert.ok(!s.includes('member state'), 'a UK notice names EU routes only when it addresses people in the EU');
  const euToo = fixtureVariant('full-uk.yaml', (d) => {
    d.controller['eu-complaints'] = true;
  });
  const both = section(renderNotice(euToo, { format: 'html', lang: 'en' }), 'complaints');
  assert.ok(
    both.includes('If you live or work in the European Union, you can also complain to a supervisory authority in the member state where you live or work'),
  );
  assert.ok(both.includes('List of supervisory authorities'));

  const euComplaints = section(renderNotice(eu, { format: 'html', lang: 'en' }), 'complaints');
  assert.ok(euComplaints.includes('in particular in the EU member state where you live or work, or where you think the law was broken'));
  assert.ok(euComplaints.includes('The supervisory authority responsible for us is: The Data Protection Commissioner of Mecklenburg-Western Pomerania'));
  assert.ok(!euComplaints.includes('Information Commissioner'));
  const listed = fixtureVariant('eu.yaml', (d) => {
    d.controller['authorities-list'] = 'https://www.bfdi.bund.de/DE/Infothek/Anschriften_Links/anschriften_links-node.html';
  });
  assert.match(renderNotice(listed, { format: 'html', lang: 'en' }), /href="https:\/\/www\.bfdi\.bund\.de\/DE\/Infothek/);
  const generic = fixtureVariant('eu.yaml', (d) => {
    delete d.controller.authority;
  });
  const g = section(renderNotice(generic, { format: 'html', lang: 'en' }), 'complaints');
  assert.ok(g.includes('a supervisory authority at any time, in particular in the EU member state where you live'));
  assert.ok(g.includes('List of supervisory authorities'));
});

test('the notice ends with its version, effective date and register fingerprint', () => {
  const s = section(html, 'changes');
  assert.ok(s.includes('This is version 2026-11 of our privacy notice, in effect from 1 November 2026.'));
  assert.ok(s.includes(`Register fingerprint: ${uk.fingerprint.slice(0, 12)}`));
  assert.ok(!s.includes(uk.fingerprint.slice(0, 13)));
  assert.ok(section(html, 'links-to-other-websites').includes('We are not responsible for other websites.'));
});

test('German: every fixed phrase translated, register text in German where given', () => {
  const de = renderNotice(uk, { format: 'html', lang: 'de' });
  assert.match(de, /<html lang="de">/);
  const all = text(de);
  for (const phrase of [
    'Wer wir sind',
    'Ihre Rechte',
    '8 Jahre nach Abschluss Ihrer Untersuchung oder bis zu Ihrem 25. Geburtstag',
    'Art. 6 Abs. 1 lit. b UK-DSGVO',
    'Vereinigte Staaten',
    'bis Sie Ihren Browser schließen',
    'Fingerabdruck des Registers',
  ]) {
    assert.ok(all.includes(phrase), phrase);
  }
  for (const english of ['Who we are', 'Your rights', 'years after', 'Legal basis', 'Strictly necessary', 'until you', 'United States']) {
    assert.ok(!all.includes(english), `untranslated: ${english}`);
  }
});

test('Markdown carries the same sections, with GFM tables whose cells cannot break', () => {
  const piped = fixtureVariant('full-uk.yaml', (d) => {
    d.purposes.accounts.title = 'Keep accounts | pay tax';
  });
  const md = renderNotice(piped, { format: 'md', lang: 'en' });
  for (const id of [
    'who-we-are',
    'what-we-collect',
    'why-and-basis',
    'recipients',
    'transfers',
    'retention',
    'cookies',
    'your-rights',
    'complaints',
    'changes',
  ]) {
    assert.ok(md.includes(`<a id="${id}"></a>`), id);
  }
  assert.match(md, /^# Privacy notice$/m);
  assert.match(md, /^\| Name \| Purpose \| Provider \| How long \| Consent needed\? \|$/m);
  const row = md.split('\n').find((l) => l.startsWith('| **Keep accounts'));
  assert.ok(row);
  assert.ok(row.includes('Keep accounts \\| pay tax'));
  assert.equal(row.split(/(?<!\\)\|/).length, 5, 'three cells: the escaped pipe does not add a column');
  assert.ok(md.includes('[dpo@harbour.example](<mailto:dpo@harbour.example>)'));
});

test('register text is escaped: markup in titles cannot reach the page', () => {
  const hostile = fixtureVariant('full-uk.yaml', (d) => {
    d.controller.name = 'Evil <script>alert(1)</script> Ltd';
    d.controller.website = 'javascript:alert(2)';
    d.purposes.analytics.title = '<script>alert("x")</script>';
    d.data.contact.title = '<img src=x onerror=alert(3)>';
    d.cookies.ga.names = ['<b>_ga</b>'];
    d.notice.extra[0].text = '</p><script>alert(4)</script>';
    d.recipients.analytics.names = ['"><svg onload=alert(5)>'];
  });
  const page = renderNotice(hostile, { format: 'html', lang: 'en' });
  assert.doesNotMatch(page, /<script|<img|<svg|<b>|href="javascript:/i);
  assert.ok(page.includes('Evil &lt;script&gt;alert(1)&lt;/script&gt; Ltd'));
  assert.ok(page.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(page.includes('javascript:alert(2)'), 'an unsafe URL is shown as text, not linked');
  const md = renderNotice(hostile, { format: 'md', lang: 'en' });
  assert.doesNotMatch(md, /(?<!\\)<(script|img|svg)|\(<?javascript:/i);
  assert.ok(md.includes('\\<script\\>'));
});
