// What each example's generated notice must and must not say, read as that business's DPO would read it beside
// its real notice (issue 11). Rendered with this installation's capabilities, and with all of them where a
// promise waits for machinery.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderNotice } from '../documents/render-notice.ts';
import { INSTALLED, NO_CAPABILITIES, type Capabilities } from '../register/capabilities.ts';
import { loadRegisterFile, type Register } from '../register/load-register.ts';
import type { Language } from '../register/schema.ts';

const EXAMPLES = ['image-diagnostic-technology', 'image-solutions', 'image-information-systems', 'odl-dental-lab', 'i-image-it'] as const;
type Example = (typeof EXAMPLES)[number];

function load(name: Example): Register {
  const result = loadRegisterFile(fileURLToPath(new URL(`./${name}/register.yaml`, import.meta.url)));
  assert.ok(result.ok, name);
  return result.register;
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

function html(name: Example, lang: Language = 'en', capabilities: Capabilities = INSTALLED): string {
  return renderNotice(load(name), { format: 'html', lang, capabilities });
}

/** The notice as text: tags dropped, entities decoded, whitespace collapsed. */
function notice(name: Example, lang: Language = 'en', capabilities: Capabilities = INSTALLED): string {
  return text(html(name, lang, capabilities));
}

/** The text of one section, from its heading to the next. */
function section(page: string, id: string): string {
  const start = page.indexOf(`<h2 id="${id}"`);
  assert.ok(start >= 0, `section ${id}`);
  const end = page.indexOf('<h2 ', start + 1);
  return text(page.slice(start, end < 0 ? undefined : end));
}

const mustSay = (page: string, phrases: readonly string[]) => {
  for (const phrase of phrases) assert.ok(page.includes(phrase), `says: ${phrase}`);
};
const mustNotSay = (page: string, phrases: readonly (string | RegExp)[]) => {
  for (const phrase of phrases) assert.ok(typeof phrase === 'string' ? !page.includes(phrase) : !phrase.test(page), `does not say: ${String(phrase)}`);
};

/** Statements no example may make on this installation: false about the running system, or wrong in law. */
const NEVER = [
  'always applies',
  'Cookie settings',
  'Global Privacy Control',
  'we tell you before it takes effect',
  'privacy centre',
  'offline database',
  'not be able to use certain features',
  'From 19 June 2026, we acknowledge',
  'If you are not satisfied',
  'Transfers abroad',
];

for (const name of EXAMPLES) {
  test(`${name}: the notice makes none of the statements the running system cannot keep`, () => {
    mustNotSay(notice(name), NEVER);
  });
}

test('every UK example names the ICO as a route "at any time", and the complaint duty only once it can be kept', () => {
  for (const name of ['image-diagnostic-technology', 'image-solutions', 'odl-dental-lab', 'i-image-it'] as const) {
    const unable = section(html(name, 'en', NO_CAPABILITIES), 'complaints');
    mustSay(unable, ["You can complain to the Information Commissioner's Office (ICO), the UK supervisory authority, at any time"]);
    mustNotSay(unable, ['30 days']);
    // Each declares the promise; complaint handling is installed (requests/), so its 2018 notice speaks of the duty.
    assert.equal(INSTALLED['complaint-handling'], true);
    const able = section(html(name), 'complaints');
    mustSay(able, ['From 19 June 2026, we will acknowledge complaints within 30 days']);
  }
});

test('Image Diagnostic Technology: no health-record or offline promises it does not keep; the referral is not portable', () => {
  const pageHtml = html('image-diagnostic-technology');
  const page = text(pageHtml);
  const rights = section(pageHtml, 'your-rights');
  mustSay(rights, [
    'This right applies in general, with some exceptions',
    'serious harm',
    'Keep the healthcare record of each scan for as long as the law requires',
    'This includes health records during their retention period.',
  ]);
  // Portability: the clinician's own registration and enquiries, not the scan a clinician arranged for a patient.
  const portable = /This applies to what you gave us for: ([^.]+)\./.exec(rights)?.[1] ?? '';
  assert.ok(portable.includes('Register you to use the services on our website'), portable);
  mustNotSay(portable, ['Arrange the CT or CBCT scan', 'Collect payment', 'Make the website work']);
  // Clinicians' contact details are about clinicians, never about patients.
  const categories = section(pageHtml, 'what-we-collect');
  const row = categories.slice(categories.indexOf('Name, email address, postal address and telephone numbers: What you give us'));
  assert.ok(row.startsWith('Name, email address, postal address and telephone numbers: What you give us when you register on our website. Dentists'));
  mustNotSay(row.slice(0, 200), ['Patients for whom a scan is requested']);
  mustSay(page, ['Our online forms, including scan requests, still work']);
});

test('Image Solutions: the enquiry is answered without consent to marketing; EU complaint routes; no health-record text', () => {
  const pageHtml = html('image-solutions');
  const page = text(pageHtml);
  const why = section(pageHtml, 'why-and-basis');
  mustSay(why, ['Answer your enquiry and offer you the goods and services you ask about Legal basis It is necessary for a contract with you']);
  const form = page.slice(page.indexOf('Enquiry about our goods and services'), page.indexOf('Subscribe to our email notifications'));
  mustSay(form, ['Yes, send me offers by email Enquiry contact details Optional', 'Yes, you may phone me with offers Enquiry contact details Optional']);
  mustNotSay(form, ['I agree that you use these details']);
  const rights = section(pageHtml, 'your-rights');
  mustNotSay(rights, ['health records', 'serious harm']);
  // Portability excludes analytics (cookies, Google's reports) and correspondence on legitimate interests.
  const portable = /This applies to what you gave us for: ([^.]+)\./.exec(rights)?.[1] ?? '';
  mustNotSay(portable, ['Analyse the use', 'Set analytics cookies', 'Communicate with you']);
  mustSay(section(pageHtml, 'complaints'), [
    'If you live or work in the European Union, you can also complain to a supervisory authority in the member state where you live or work, or where you think the law was broken',
  ]);
  // Usage data is about visitors, not subscribers or correspondents.
  const usage = page.slice(page.indexOf('Usage data: Your IP address'));
  assert.match(usage, /^Usage data: [^|]*?pattern of your use\. Visitors to our website No/);
});

test('IMAGE Information Systems: bases as the law allows, its authority list, no selling, the opt-out link, its named person', () => {
  const pageHtml = html('image-information-systems');
  const page = text(pageHtml);
  const why = section(pageHtml, 'why-and-basis');
  const logs = why.slice(why.indexOf('Deliver our website and keep server log files'));
  mustSay(logs.slice(0, 300), ['It is necessary for our legitimate interests']);
  const consents = why.slice(why.indexOf('Record your cookie consents'));
  mustNotSay(consents.slice(0, 300), ['legal obligation', 'the law requires it']);
  mustSay(page, [
    'Person responsible: Dr. Arpad Bischof',
    'We do not sell, rent or trade your personal information.',
    'https://tools.google.com/dlpage/gaoptout',
    '3 months after we have fully answered your request, or until you withdraw your consent or until you ask us to delete it, whichever comes first',
  ]);
  const rights = section(pageHtml, 'your-rights');
  mustNotSay(rights, ['health records', 'serious harm', 'Data Protection Act']);
  const portable = /This applies to what you gave us for: ([^.]+)\./.exec(rights)?.[1] ?? '';
  mustNotSay(portable, ['server log', 'Analyse the use', 'Record your cookie consents']);
  const complaints = section(pageHtml, 'complaints');
  mustSay(complaints, [
    'in particular in the EU member state where you live or work, or where you think the law was broken',
    'The State Commissioner for Data Protection and Freedom of Information of Mecklenburg-Western Pomerania',
    'List of supervisory authorities and their contact details',
  ]);
  assert.match(renderNotice(load('image-information-systems'), { format: 'html', lang: 'en' }), /href="https:\/\/www\.bfdi\.bund\.de\//);
  mustSay(section(pageHtml, 'security'), ['Appropriate technical and organisational measures']);
});

test('ODL: patients are not told of a contract with them; couriers get practice details only; backups are described', () => {
  const pageHtml = html('odl-dental-lab');
  const page = text(pageHtml);
  const why = section(pageHtml, 'why-and-basis');
  const lab = why.slice(why.indexOf('Make the appliances your practice prescribes'), why.indexOf('Keep the paper prescription'));
  mustSay(lab, ['It is necessary for our legitimate interests', 'under our contract with the practice']);
  mustNotSay(lab, ['a contract with you']);
  const recipients = section(pageHtml, 'recipients');
  const couriers = recipients.slice(recipients.indexOf('Couriers and Royal Mail'), recipients.indexOf('Book shipments'));
  mustSay(couriers, ['Clinician and practice contact details']);
  mustNotSay(couriers, ['Personal mobile']);
  const portable = /This applies to what you gave us for: ([^.]+)\./.exec(section(pageHtml, 'your-rights'))?.[1] ?? '';
  mustNotSay(portable, ['Make the appliances', 'Use photos', 'Keep the paper prescription']);
  mustSay(section(pageHtml, 'security'), ['backed up nightly over an encrypted and compressed connection', 'monitored daily by Reliant']);
  const form = page.slice(page.indexOf('Laboratory prescription sent with each case'));
  mustSay(form, ['Patient name Patient name or number and date of birth Required, unless you give Patient number']);
});

test('i-Image IT: both registrations, the principles and its statements; UK transfers without a derogation; no client data as its own', () => {
  const pageHtml = html('i-image-it');
  const page = text(pageHtml);
  mustSay(section(pageHtml, 'who-we-are'), [
    "Registered with the Information Commissioner's Office (ICO) under number ZA292671.",
    'Registered with Companies House (England and Wales) under number 9028104.',
    'We follow the principles of data protection law.',
  ]);
  mustSay(section(pageHtml, 'recipients'), [
    'We do not sell, rent or trade your personal information.',
    'We do not share your information with others for their own marketing.',
  ]);
  const transfers = section(pageHtml, 'transfers');
  mustSay(transfers, ['Some recipients are outside the UK.', 'Servers outside the UK', 'UK International Data Transfer Agreement']);
  mustNotSay(page, ['European Economic Area', 'Article 49', 'Patient demographics, medical images']);
  mustSay(section(pageHtml, 'security'), ['128-bit SSL']);
});

test('the German notice is German throughout, without the slips of the old one', () => {
  const de = notice('image-information-systems', 'de');
  mustSay(de, [
    'Verantwortliche Stelle für die Verarbeitung Ihrer personenbezogenen Daten ist: IMAGE Information Systems Europe GmbH.',
    'Dies ist unsere Datenschutzerklärung',
    'Was der Empfänger damit tut',
  ]);
  mustNotSay(de, ['Dies ist unserer', 'GmbH ist für', 'Was sie damit tun', /\b(always|the law|whichever|Your rights|Legal basis)\b/]);
});

test('the soft opt-in is said with the sale it comes from, the form where the refusal is offered, in English and German', () => {
  const says: [Example, string][] = [
    ['image-diagnostic-technology', 'Register to request services'],
    ['odl-dental-lab', 'Account application form (paper)'],
  ];
  for (const [name, form] of says) {
    mustSay(section(html(name), 'marketing'), [
      `Email: only with the details you gave us through “${form}”, as an existing customer, about similar services of ours, unless you said no when we collected your details`,
    ]);
    mustSay(section(html(name, 'de'), 'marketing'), [`E-Mail: nur mit den Angaben, die Sie uns über „${form}“ gegeben haben, als Bestandskunde`]);
  }
  // The other examples market by email only with consent: no soft opt-in sentence.
  for (const name of ['image-solutions', 'image-information-systems', 'i-image-it'] as const) mustNotSay(notice(name), ['as an existing customer']);
});
