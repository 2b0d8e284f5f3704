// The five example registers stay valid and keep the promises of the notices they encode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ALL_CAPABILITIES, INSTALLED } from '../register/capabilities.ts';
import { checkRules } from '../register/check-rules.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import type { Register } from '../register/load-register.ts';
import { IDENTIFIER_KINDS } from '../register/schema.ts';

const EXAMPLES = ['image-diagnostic-technology', 'image-solutions', 'image-information-systems', 'odl-dental-lab', 'i-image-it'] as const;
type Example = (typeof EXAMPLES)[number];

const fileOf = (name: Example) => fileURLToPath(new URL(`./${name}/register.yaml`, import.meta.url));

function load(name: Example): Register {
  const result = loadRegisterFile(fileOf(name));
  if (!result.ok) {
    const report = result.problems.map((p) => `${p.line}:${p.col} ${p.path.join('.')} ${p.message}`).join('\n');
    assert.fail(`${name} is not a valid register:\n${report}`);
  }
  return result.register;
}

function purpose(r: Register, key: string) {
  const p = r.purposes[key];
  assert.ok(p, `purpose "${key}" is declared`);
  return p;
}

for (const name of EXAMPLES) {
  test(`${name}: valid; its only warnings are the promises this installation cannot keep yet`, () => {
    const result = loadRegisterFile(fileOf(name));
    assert.equal(result.ok, true, result.ok ? '' : JSON.stringify(result.problems, null, 2));
    if (!result.ok) return;
    const waiting = result.register.notice.promises.filter((p) => !INSTALLED[p]);
    assert.deepEqual(
      result.warnings.map((w) => w.path.join('.')),
      waiting.map((p) => `notice.promises.${result.register.notice.promises.indexOf(p)}`),
    );
    // With every capability installed, the same register is clean.
    assert.deepEqual(checkRules(result.register, ALL_CAPABILITIES), []);
  });

  test(`${name}: every collection point has a field that identifies its subject`, () => {
    const r = load(name);
    const points = Object.entries(r.collection);
    assert.ok(points.length >= 1, 'at least one collection point');
    for (const [key, point] of points) {
      const identifiers = Object.values(point.fields).filter((f) => f.identifier !== undefined);
      assert.ok(identifiers.length >= 1, `collection point "${key}" has an identifier field`);
      for (const f of identifiers) assert.ok((IDENTIFIER_KINDS as readonly string[]).includes(f.identifier!));
    }
  });

  test(`${name}: every purpose has a retention rule`, () => {
    const r = load(name);
    for (const [key, p] of Object.entries(r.purposes)) {
      assert.ok(p.retention.keep, `purpose "${key}" says how long`);
      assert.ok(p.retention.then, `purpose "${key}" says what happens then`);
    }
  });

  test(`${name}: custom events read in English and German`, () => {
    const r = load(name);
    for (const [key, e] of Object.entries(r.events)) {
      assert.equal(typeof e.title, 'object', `event "${key}" has a title per language`);
      if (typeof e.title === 'object') assert.ok(e.title.de, `event "${key}" has a German title`);
    }
  });

  test(`${name}: the fingerprint is a stable SHA-256`, () => {
    const a = load(name);
    const b = load(name);
    assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(a.fingerprint, b.fingerprint);
  });
}

test('the five examples are five different registers', () => {
  const prints = new Set(EXAMPLES.map((n) => load(n).fingerprint));
  assert.equal(prints.size, EXAMPLES.length);
});

test('Image Diagnostic Technology: UK, ICO Z490831X, scan records kept 8 years or to age 25', () => {
  const r = load('image-diagnostic-technology');
  assert.equal(r.controller.jurisdiction, 'uk');
  assert.deepEqual(r.controller.registration, { authority: 'ICO', number: 'Z490831X' });

  const scan = purpose(r, 'provide-scan');
  assert.equal(scan.basis, 'contract');
  assert.equal(scan.condition, 'health-care');
  assert.deepEqual([...scan.recipients].sort(), ['imaging-centres', 'radiologists']);

  // Payment by redirect: the card companies see the order, never patient or clinical data.
  const payment = purpose(r, 'payment');
  assert.deepEqual([...payment.recipients].sort(), ['netbanx', 'paypal']);
  for (const d of payment.data) assert.ok(!d.startsWith('patient') && r.data[d]?.special === undefined, d);

  const records = purpose(r, 'healthcare-records');
  assert.equal(records.basis, 'legal-obligation');
  assert.equal(records.retention.keep, 'P8Y');
  assert.equal(records.retention['until-age'], 25);

  // Registration is kept until you ask for deletion; unsubscribing leaves a do-not-contact note.
  assert.equal(purpose(r, 'registration').retention.keep, 'until-erasure-requested');
  const news = purpose(r, 'product-news');
  assert.equal(news.retention.then, 'suppress');
  assert.deepEqual(news.channels, { email: 'soft-opt-in', post: 'opt-out' });

  // The four legal bases the notice names are all in use.
  const bases = new Set(Object.values(r.purposes).map((p) => p.basis));
  for (const b of ['contract', 'legitimate-interests', 'legal-obligation', 'consent'] as const) assert.ok(bases.has(b), b);

  // Only a session cookie, set by IDT itself.
  assert.deepEqual(
    Object.values(r.cookies).map((c) => [c.purpose, c.provider]),
    [['strictly-necessary', 'first-party']],
  );

  const request = r.collection['scan-request'];
  assert.ok(request);
  assert.equal(request.subject, 'patient');
  assert.equal(request.source, 'clinician');
  assert.equal(r.data['scan-request']?.special, 'health');
});

test('Image Solutions: usage data on legitimate interests, further copies for a fee', () => {
  const r = load('image-solutions');
  assert.equal(r.controller.jurisdiction, 'uk');
  const analysis = purpose(r, 'website-analysis');
  assert.equal(analysis.basis, 'legitimate-interests');
  assert.match(String(analysis.interest), /improving our website functionality/);
  // Answering an enquiry does not depend on consent to marketing (Art. 7(4)); marketing asks separately.
  assert.equal(purpose(r, 'enquiries').basis, 'contract');
  assert.equal(purpose(r, 'enquiry-marketing').basis, 'consent');
  for (const f of Object.values(r.collection['enquiry-form']?.fields ?? {})) if (f.consent) assert.equal(f.required, false);
  assert.equal(purpose(r, 'newsletter').basis, 'consent');
  assert.equal(purpose(r, 'correspondence').basis, 'legitimate-interests');
  assert.ok(r.rights['further-copy-fee']);
  assert.deepEqual(new Set(purpose(r, 'insurance-and-advice').recipients), new Set(['insurers', 'professional-advisers']));
  // Analytics cookies wait for consent; the cookie-choice cookie is strictly necessary.
  for (const c of Object.values(r.cookies)) {
    if (c.purpose !== 'strictly-necessary') assert.equal(purpose(r, c.purpose).basis, 'consent');
  }
});

test('IMAGE Information Systems: EU, state authority, consents kept 2 months, Japan with a safeguard', () => {
  const r = load('image-information-systems');
  assert.equal(r.controller.jurisdiction, 'eu');
  const authority = r.controller.authority;
  assert.ok(authority);
  assert.match(typeof authority.name === 'string' ? authority.name : (authority.name.de ?? ''), /Mecklenburg-Vorpommern/);

  const consents = purpose(r, 'cookie-consent');
  assert.equal(consents.retention.keep, 'P2M');
  assert.equal(consents.retention.then, 'erase');

  const japan = Object.values(r.recipients).filter((x) => x.country === 'JP');
  assert.equal(japan.length, 1);
  assert.ok(japan[0]!.transfer, 'the transfer to Japan names its safeguard');
  assert.ok(japan[0]!.transfer.copy, 'and how to get a copy of it');

  const newsletter = purpose(r, 'newsletter');
  assert.equal(newsletter.basis, 'consent');
  assert.equal(newsletter.retention.keep, 'until-withdrawn');
  assert.ok(newsletter.withdraw);

  // Contact forms run on consent, withdrawn by an informal email.
  const forms = purpose(r, 'contact-forms');
  assert.equal(forms.basis, 'consent');
  assert.match(typeof forms.withdraw === 'object' ? forms.withdraw.en : String(forms.withdraw), /informal email/);

  // Data from other sources keeps its origin.
  assert.deepEqual(
    new Set(purpose(r, 'fraud-and-credit-checks').sources),
    new Set(['fraud-prevention-agencies', 'credit-reference-agencies', 'government-records']),
  );

  // The published cookie table: _gid lasts 24 hours, the Borlabs consent cookie 2 months.
  assert.equal(Object.values(r.cookies).find((c) => c.names.includes('_gid'))?.lasts, 'PT24H');
  assert.equal(Object.values(r.cookies).find((c) => c.names.includes('borlabs-cookie'))?.lasts, 'P2M');
  // No UK-only cookie exemption is claimed in the EU.
  for (const c of Object.values(r.cookies)) assert.equal(c.exemption, undefined);
});

test('ODL: paper prescriptions go off site after 3 months; photos go when treatment ends', () => {
  const r = load('odl-dental-lab');
  assert.equal(r.controller.jurisdiction, 'uk');

  const paper = purpose(r, 'paper-prescriptions');
  assert.equal(paper.retention.keep, 'P3M');
  assert.equal(paper.retention.then, 'offsite');
  assert.equal(paper.retention.finally?.then, 'erase');
  assert.deepEqual(paper.recipients, ['evastore']);

  const photos = purpose(r, 'treatment-photos');
  assert.equal(photos.retention.after, 'treatment-ended');
  assert.equal(photos.retention.then, 'erase');

  const manufacture = purpose(r, 'manufacture-records');
  assert.equal(manufacture.retention.keep, 'P11Y');

  const couriers = r.recipients.couriers;
  assert.ok(couriers);
  assert.deepEqual(couriers.names, ['Royal Mail', 'DPD', 'UPS']);

  const prescription = r.collection['lab-prescription'];
  assert.ok(prescription);
  assert.ok(Object.values(prescription.fields).some((f) => f.data === 'shade'));
  assert.ok(Object.values(r.collection['account-application']?.fields ?? {}).some((f) => f.identifier === 'gdc-number'));
});

test('i-Image IT: controller and processor, with an Art. 30(2) record', () => {
  const r = load('i-image-it');
  assert.equal(r.controller.jurisdiction, 'uk');
  assert.deepEqual([...r.controller.roles].sort(), ['controller', 'processor']);
  assert.deepEqual(r.controller.registration, [
    { authority: 'ICO', number: 'ZA292671' },
    { authority: 'Companies House (England and Wales)', number: '9028104' },
  ]);
  assert.equal(r.controller.dpo?.name, 'Andrew Cakebread');

  const processing = r.processing;
  assert.ok(processing);
  assert.ok(Object.keys(processing.activities).length >= 1);
  assert.ok(Object.keys(processing.controllers).length >= 1);

  // Email, phone and text only with prior consent; post unless refused.
  assert.deepEqual(purpose(r, 'marketing-consent').channels, { email: 'opt-in', phone: 'opt-in', sms: 'opt-in' });
  assert.deepEqual(purpose(r, 'marketing-post').channels, { post: 'opt-out' });

  assert.equal(purpose(r, 'job-applications').subjects[0], 'applicant');
  assert.ok(r.collection['job-application']);

  // Processors are bound by agreements; transfers outside the EEA name their safeguard.
  assert.equal(r.recipients['service-providers']?.agreement, true);
  for (const x of Object.values(r.recipients)) {
    if (x.country === 'US') assert.ok(x.transfer, `${x.country} recipient names its safeguard`);
  }
});
