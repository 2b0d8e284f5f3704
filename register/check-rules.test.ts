// One broken register per rule of REGISTER.md (and the format): each must fail with the right path and line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ALL_CAPABILITIES, NO_CAPABILITIES, type Capabilities } from './capabilities.ts';
import { checkRules } from './check-rules.ts';
import { parseRegister } from './load-register.ts';
import { formatPath, type Problem } from './problems.ts';
import { RegisterSchema } from './schema.ts';

const base = readFileSync(new URL('../test/fixtures/minimal.yaml', import.meta.url), 'utf8');

function lineOf(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `fixture edit failed: "${needle}" not found`);
  return text.slice(0, i).split('\n').length;
}

function problemsOf(text: string): Problem[] {
  const result = parseRegister(text);
  return result.ok ? result.warnings : result.problems;
}

/** Applies `edits` (search → replace) to the valid fixture and expects an error at `path` on the line of `marker`. */
function expectProblem(name: string, edits: [string, string][], path: string, marker: string, message: RegExp, severity: 'error' | 'warning' = 'error'): void {
  test(name, () => {
    let text = base;
    for (const [from, to] of edits) {
      assert.ok(text.includes(from), `fixture edit failed: "${from}" not found`);
      text = text.replace(from, to);
    }
    const problems = problemsOf(text);
    const hit = problems.find((p) => formatPath(p.path) === path && p.severity === severity);
    assert.ok(hit, `expected a ${severity} at ${path}; got:\n${problems.map((p) => `${p.line}:${p.col} ${formatPath(p.path)} ${p.message}`).join('\n')}`);
    assert.match(hit.message, message);
    assert.equal(hit.line, lineOf(text, marker), `line of ${path}`);
    if (severity === 'error') assert.equal(parseRegister(text).ok, false);
  });
}

test('the fixture itself is valid and has no warnings', () => {
  const result = parseRegister(base);
  assert.equal(result.ok, true);
  assert.deepEqual(result.ok && result.warnings, []);
});

// Format: YAML, unknown keys, wrong types, bad durations.
expectProblem(
  'invalid YAML is reported at its line',
  [['  name: Example Imaging Ltd', '  name: [Example Imaging Ltd']],
  '(document)',
  'address:',
  /YAML syntax/,
);
expectProblem(
  'an unknown key is named, with a suggestion',
  [['  jurisdiction: uk', '  jurisdiction: uk\n  jurisdicton: eu']],
  'controller.jurisdicton',
  'jurisdicton',
  /not a setting.*did you mean "jurisdiction"/,
);
expectProblem(
  'a wrong type is explained',
  [['    title: Arrange the scan your dentist requested', '    title: [a, b]']],
  'purposes.provide-scan.title',
  'title: [a, b]',
  /should be text/,
);
expectProblem('a bad ISO 8601 duration', [['keep: P8Y', 'keep: 8Y']], 'purposes.provide-scan.retention.keep', 'keep: 8Y', /ISO 8601 duration/);
expectProblem('a bad cookie duration', [['lasts: P13M', 'lasts: 13 months']], 'cookies.ga.lasts', 'lasts: 13 months', /ISO 8601/);
expectProblem('a missing required setting', [['  jurisdiction: uk\n', '']], 'controller', 'name: Example Imaging Ltd', /"jurisdiction" is missing/);

// Every purpose has a basis; legitimate interests name the interest; consent is withdrawable.
expectProblem('a purpose without a basis', [['    basis: contract\n', '']], 'purposes.provide-scan', 'title: Arrange', /"basis" is missing/);
expectProblem(
  'legitimate interests without the interest',
  [['    basis: consent', '    basis: legitimate-interests']],
  'purposes.analytics.basis',
  'basis: legitimate-interests',
  /name the interest/,
);
expectProblem(
  'consent with no way to withdraw',
  [
    ['  email: privacy@example.test\n', ''],
    ['  dpo: { title: The Data Protection Officer, email: dpo@example.test }\n', ''],
  ],
  'purposes.analytics.basis',
  'basis: consent',
  /withdraw/,
);

// Special categories name an Art. 9 condition.
expectProblem(
  'special category without an Art. 9 condition',
  [['    condition: health-care\n', '']],
  'purposes.provide-scan.data',
  'data: [contact, clinical]',
  /Art\. 9\(2\) condition/,
);

// References exist.
expectProblem(
  'a dangling subject kind',
  [['subjects: [clinician, patient]', 'subjects: [clinician, patients]']],
  'purposes.provide-scan.subjects[1]',
  'subjects: [clinician, patients]',
  /"patients" is not declared.*did you mean "patient"/,
);
expectProblem(
  'a dangling data category',
  [['data: [contact, clinical]', 'data: [contact, clinic]']],
  'purposes.provide-scan.data[1]',
  'data: [contact, clinic]',
  /data category "clinic"/,
);
expectProblem(
  'a dangling recipient',
  [['recipients: [radiologists]', 'recipients: [radiologist]']],
  'purposes.provide-scan.recipients[0]',
  'recipients: [radiologist]',
  /recipient "radiologist"/,
);
expectProblem(
  'a dangling retention trigger',
  [['after: scan-completed', 'after: scan-done']],
  'purposes.provide-scan.retention.after',
  'after: scan-done',
  /event "scan-done"/,
);
expectProblem(
  'a dangling collection purpose',
  [['    purposes: [provide-scan]', '    purposes: [provide-scans]']],
  'collection.scan-request.purposes[0]',
  'purposes: [provide-scans]',
  /purpose "provide-scans"/,
);
expectProblem(
  'a field whose category no purpose of the point uses',
  [
    ['    data: [contact, clinical]', '    data: [contact]'],
    ['    condition: health-care\n', ''],
  ],
  'collection.scan-request.fields["clinical.area"].data',
  'data: clinical, type: long-text',
  /collected here but none/,
);
expectProblem(
  'declared but unused is a warning',
  [['  patient: { title: Patients referred for a scan }', '  patient: { title: Patients referred for a scan }\n  supplier: { title: Suppliers }']],
  'subjects.supplier',
  'supplier:',
  /nothing uses it/,
  'warning',
);

// Transfers abroad name a safeguard.
expectProblem(
  'a US recipient without a safeguard',
  [[', transfer: { safeguard: dpf }', '']],
  'recipients.analytics.country',
  'country: US }',
  /outside the UK\/EEA.*safeguard/,
);
expectProblem(
  'adequacy claimed for a country without it',
  [['safeguard: dpf', 'safeguard: adequacy']],
  'recipients.analytics.transfer.safeguard',
  'safeguard: adequacy',
  /no adequacy decision/,
);

// Retention rules are complete.
expectProblem(
  'a retention period without a trigger',
  [['keep: P8Y, after: scan-completed, then: erase', 'keep: P8Y, then: erase']],
  'purposes.provide-scan.retention.keep',
  'keep: P8Y, then',
  /starts the clock/,
);
expectProblem(
  'a retention rule without an action',
  [['keep: P8Y, after: scan-completed, then: erase', 'keep: P8Y, after: scan-completed']],
  'purposes.provide-scan.retention',
  'retention: { keep: P8Y, after: scan-completed }',
  /"then" is missing/,
);
expectProblem(
  'an unknown retention action',
  [['then: erase }\n  analytics', 'then: shred }\n  analytics']],
  'purposes.provide-scan.retention.then',
  'then: shred',
  /"shred" is not allowed/,
);

// Dates of birth: what until-age retention counts from.
expectProblem(
  'a birth-date that is not a date',
  [['type: long-text }', 'type: long-text, birth-date: true }']],
  'collection.scan-request.fields["clinical.area"].type',
  'type: long-text, birth-date: true',
  /birth-date field must have type date/,
);
expectProblem(
  'an until-age rule on a form whose date field is not marked as the birth date',
  [
    ['    retention: { keep: P8Y, after: scan-completed, then: erase }', '    retention: { keep: P8Y, after: scan-completed, until-age: 25, then: erase }'],
    ['      clinical.area:', '      patient.dob: { data: contact, type: date }\n      clinical.area:'],
  ],
  'collection.scan-request.fields',
  '      patient.name:',
  /mark the date-of-birth field with "birth-date: true"/,
  'warning',
);

// Cookies: non-essential ones need a consent purpose.
expectProblem(
  'a non-essential cookie on a non-consent purpose',
  [['purpose: analytics, lasts', 'purpose: provide-scan, lasts']],
  'cookies.ga.purpose',
  'purpose: provide-scan, lasts',
  /needs consent/,
);
expectProblem(
  'a cookie on an undeclared purpose',
  [['purpose: analytics, lasts', 'purpose: analytic, lasts']],
  'cookies.ga.purpose',
  'purpose: analytic, lasts',
  /cookie purpose "analytic"/,
);
expectProblem(
  'the statistics exemption is UK-only',
  [
    ['  jurisdiction: uk', '  jurisdiction: eu'],
    ['    basis: consent', '    basis: legitimate-interests\n    interest: Knowing how the site is used'],
    ['provider: analytics }', 'provider: first-party, exemption: statistics }'],
  ],
  'cookies.ga.exemption',
  'exemption: statistics',
  /only under UK PECR/,
);

// The banner keeps each visitor's choice in one declared cookie: first-party, strictly necessary, one settable name.
const CHOICE = '  cookie-choice: { names: [cookie_choice], purpose: strictly-necessary, lasts: P6M, provider: first-party, keeps-consent-choice: true }\n';
expectProblem(
  'cookies to ask about, and no cookie declared to keep the choice',
  [[CHOICE, '']],
  'cookies',
  'session-id:',
  /keeps each visitor's choice in a cookie the notice must list: declare it .* with "keeps-consent-choice: true"/,
);
expectProblem(
  'two cookies keep the choice',
  [[CHOICE, `${CHOICE}  prefs: { names: [prefs], purpose: strictly-necessary, lasts: P1Y, provider: first-party, keeps-consent-choice: true }\n`]],
  'cookies.prefs.keeps-consent-choice',
  'prefs:',
  /only one cookie keeps the consent choice, and "cookie-choice" already does/,
);
expectProblem(
  'the choice kept by a third party',
  [[CHOICE, CHOICE.replace('provider: first-party', 'provider: analytics')]],
  'cookies.cookie-choice.provider',
  'cookie-choice:',
  /must be first-party/,
);
expectProblem(
  'the choice kept in a cookie that is not strictly necessary',
  [[CHOICE, CHOICE.replace('purpose: strictly-necessary', 'purpose: analytics')]],
  'cookies.cookie-choice.purpose',
  'cookie-choice:',
  /is strictly necessary .*: use strictly-necessary/,
);
expectProblem(
  'the choice kept in a cookie without one name the banner can set',
  [[CHOICE, CHOICE.replace('names: [cookie_choice]', 'names: ["cookie_choice*"]')]],
  'cookies.cookie-choice.names',
  'cookie-choice:',
  /give exactly one name, without wildcards/,
);
expectProblem(
  'a cookie marked to keep a choice where nothing is asked is a warning',
  [['  ga: { names: ["_ga*"], purpose: analytics, lasts: P13M, provider: analytics }\n', '']],
  'cookies.cookie-choice.keeps-consent-choice',
  'cookie-choice:',
  /the banner asks nothing and never sets a cookie to keep a choice/,
  'warning',
);
test('an installation without the banner needs no cookie to keep a choice', () => {
  const data = RegisterSchema.parse(parse(base.replace(CHOICE, '')));
  const missing = (caps: Capabilities) => checkRules(data, caps).filter((p) => formatPath(p.path) === 'cookies');
  assert.equal(missing(ALL_CAPABILITIES).length, 1);
  assert.deepEqual(missing({ ...ALL_CAPABILITIES, 'cookie-settings': false }), []);
});

// Electronic marketing follows PECR.
expectProblem(
  'email marketing on opt-out',
  [['    recipients: [analytics]', '    recipients: [analytics]\n    channels: { email: opt-out, post: opt-out }']],
  'purposes.analytics.channels.email',
  'email: opt-out',
  /prior consent under PECR/,
);
expectProblem(
  'soft opt-in by post is not a thing',
  [['    recipients: [analytics]', '    recipients: [analytics]\n    channels: { post: soft-opt-in }']],
  'purposes.analytics.channels.post',
  'post: soft-opt-in',
  /only to email and SMS/,
);

// The soft opt-in names where contact details come in a sale, and that point offers the refusal (PECR reg. 22(3)).
const NEWS_PURPOSE = `  news:
    title: News of our services
    basis: legitimate-interests
    interest: Telling customers about our services
    subjects: [clinician]
    data: [contact]
    channels: { email: soft-opt-in }
    soft-opt-in:
      - { point: registration, sale: An account to order scans }
    retention: { keep: until-objection, then: suppress }
recipients:
`;
const REGISTRATION = `  registration:
    title: Register to order scans
    subject: clinician
    fields:
      name: { data: contact, required: true }
      email: { data: contact, type: email, identifier: email }
      no-news: { data: contact, type: boolean, objects: news }
    purposes: [news]
`;
const withNews = (...edits: [string, string][]): [string, string][] => [
  ['recipients:\n', NEWS_PURPOSE],
  ['collection:\n', `collection:\n${REGISTRATION}`],
  ...edits,
];
test('a soft opt-in naming a point that collects the email and offers the refusal is valid, without warnings', () => {
  let text = base;
  for (const [from, to] of withNews()) text = text.replace(from, to);
  const result = parseRegister(text);
  assert.ok(result.ok, result.ok ? '' : result.problems.map((p) => `${formatPath(p.path)} ${p.message}`).join('\n'));
  assert.deepEqual(result.warnings, []);
});
expectProblem(
  'a soft opt-in channel without the sale it comes from',
  withNews(['    soft-opt-in:\n      - { point: registration, sale: An account to order scans }\n', '']),
  'purposes.news.channels.email',
  'channels: { email: soft-opt-in }',
  /covers only contact details obtained in the course of a sale or negotiations for one .*"soft-opt-in:/,
);
expectProblem(
  'a soft opt-in naming a point that does not exist',
  withNews(['point: registration,', 'point: registraton,']),
  'purposes.news.soft-opt-in[0].point',
  'point: registraton',
  /collection point "registraton" is not declared.*did you mean "registration"/,
);
expectProblem(
  'a soft opt-in naming a point that offers no refusal',
  withNews(['      no-news: { data: contact, type: boolean, objects: news }\n', '']),
  'purposes.news.soft-opt-in[0].point',
  'point: registration',
  /collects the email address but offers no way to refuse email marketing there .*"objects: news"/,
);
expectProblem(
  'a soft opt-in naming a point whose refusal box covers another channel',
  withNews(['channels: { email: soft-opt-in }', 'channels: { email: soft-opt-in, post: opt-out }'], ['objects: news }', 'objects: news, channel: post }']),
  'purposes.news.soft-opt-in[0].point',
  'point: registration',
  /offers no way to refuse email marketing there/,
);
expectProblem(
  'a soft opt-in naming a point that collects no email address',
  withNews(['      email: { data: contact, type: email, identifier: email }\n', '']),
  'purposes.news.channels.email',
  'channels: { email: soft-opt-in }',
  /no point under "soft-opt-in" collects the person's email address and offers the refusal/,
);
expectProblem(
  'a soft opt-in naming a point that does not collect for the purpose',
  withNews(['      - { point: registration,', '      - { point: scan-request,']),
  'purposes.news.soft-opt-in[0].point',
  'point: scan-request',
  /"scan-request" does not collect for "news"/,
);
expectProblem(
  'sales named for a purpose with no soft opt-in channel are a warning',
  withNews(['channels: { email: soft-opt-in }', 'channels: { post: opt-out }']),
  'purposes.news.soft-opt-in',
  'point: registration',
  /no channel of this purpose is soft-opt-in/,
  'warning',
);

test('every problem is reported in one run', () => {
  let text = base.replace('  jurisdiction: uk', '  jurisdiction: uk\n  colour: blue');
  text = text.replace('recipients: [radiologists]', 'recipients: [radiologist]');
  text = text.replace('keep: P14M', 'keep: 14 months');
  const problems = problemsOf(text);
  const paths = problems.map((p) => formatPath(p.path));
  assert.ok(paths.includes('controller.colour'));
  assert.ok(paths.includes('purposes.provide-scan.recipients[0]'));
  assert.ok(paths.includes('purposes.analytics.retention.keep'));
});

test('the loaded register is frozen and fingerprinted independently of key order', () => {
  const a = parseRegister(base);
  const reordered = base.replace(
    '  name: Example Imaging Ltd\n  address: 1 High Street, London N1 1AA\n',
    '  address: 1 High Street, London N1 1AA\n  name: Example Imaging Ltd\n',
  );
  assert.notEqual(reordered, base);
  const b = parseRegister(reordered);
  assert.ok(a.ok && b.ok);
  assert.match(a.register.fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(a.register.fingerprint, b.register.fingerprint);
  assert.ok(Object.isFrozen(a.register) && Object.isFrozen(a.register.purposes['provide-scan']!.retention));
  assert.throws(() => {
    (a.register.controller as { name: string }).name = 'Other';
  }, TypeError);
  const changed = parseRegister(base.replace('keep: P8Y', 'keep: P11Y'));
  assert.ok(changed.ok);
  assert.notEqual(changed.register.fingerprint, a.register.fingerprint);
});

// Promises the installation cannot keep, and the register language of issue 11.
expectProblem(
  'a promise this installation cannot keep yet is a warning naming what is missing',
  [['  effective: 2026-11-01', '  effective: 2026-11-01\n  promises: [change-notices]']],
  'notice.promises[0]',
  'promises: [change-notices]',
  /cannot yet keep that people are told of a change before it takes effect/,
  'warning',
);

test('a declared promise is held against the capabilities given: warned without them, silent with them', () => {
  const text = base.replace(
    '  effective: 2026-11-01',
    '  effective: 2026-11-01\n  promises: [cookie-settings, global-privacy-control, privacy-centre, complaint-handling]',
  );
  const data = RegisterSchema.parse(parse(text));
  const promised = (caps: Capabilities) => checkRules(data, caps).filter((p) => p.path[1] === 'promises');
  assert.equal(promised(NO_CAPABILITIES).length, 4);
  assert.deepEqual(promised(ALL_CAPABILITIES), []);
});

expectProblem(
  'an Art. 49 derogation for a recipient a purpose sends data to routinely is a warning',
  [['transfer: { safeguard: dpf } }', 'transfer: { safeguard: derogation } }']],
  'recipients.analytics.transfer.safeguard',
  'safeguard: derogation',
  /covers only occasional transfers, but analytics sends data here routinely: use idta or uk-addendum/,
  'warning',
);

test('an Art. 49 derogation marked occasional is accepted', () => {
  const result = parseRegister(base.replace('transfer: { safeguard: dpf } }', 'transfer: { safeguard: derogation, occasional: true } }'));
  assert.equal(result.ok, true);
  assert.deepEqual(result.ok && result.warnings, []);
});

expectProblem(
  'a recipient cannot receive a category none of its purposes shares',
  [
    [
      '  radiologists: { title: Reporting radiologists, role: controller, country: GB }',
      '  radiologists: { title: Reporting radiologists, role: controller, country: GB, receives: [contact, clinical, nothing] }',
    ],
    ['  clinical: { title: Clinical', '  nothing: { title: Nothing }\n  clinical: { title: Clinical'],
    ['    data: [contact]\n    recipients: [analytics]', '    data: [contact, nothing]\n    recipients: [analytics]'],
  ],
  'recipients.radiologists.receives[2]',
  'receives: [contact',
  /"nothing" is not among the data of any purpose that shares with this recipient/,
);

expectProblem(
  '"or" retention fits the basis: until-withdrawn only for consent',
  [['retention: { keep: P8Y, after: scan-completed, then: erase }', 'retention: { keep: P8Y, after: scan-completed, then: erase, or: [until-withdrawn] }']],
  'purposes.provide-scan.retention.or[0]',
  'or: [until-withdrawn]',
  /"until-withdrawn" only fits consent/,
);

expectProblem(
  'a field says whom it is about with a declared subject kind',
  [
    [
      '      patient.name: { data: contact, required: true }',
      '      patient.name: { data: contact, required: true }\n      referrer: { data: contact, about: dentist }',
    ],
  ],
  'collection.scan-request.fields.referrer.about',
  'about: dentist',
  /subject kind "dentist" is not declared/,
);

expectProblem(
  'a one-of group names fields of the form',
  [['    purposes: [provide-scan]\n', '    purposes: [provide-scan]\n    one-of: [[patient.name, patient.number]]\n']],
  'collection.scan-request.one-of[0][1]',
  'one-of:',
  /"patient.number" is not a field of this form/,
);

expectProblem(
  '"accept" belongs to file fields only',
  [['      clinical.area: { data: clinical, type: long-text }', '      clinical.area: { data: clinical, type: long-text, accept: [pdf] }']],
  'collection.scan-request.fields["clinical.area"].accept',
  'accept: [pdf]',
  /"accept" only applies to fields of type file/,
);

expectProblem(
  'a file field says which kinds of file it takes',
  [['      clinical.area: { data: clinical, type: long-text }', '      clinical.area: { data: clinical, type: file }']],
  'collection.scan-request.fields["clinical.area"].type',
  'type: file',
  /say which kinds of file this field takes with "accept"/,
  'warning',
);

expectProblem(
  'a file field allows at most 25 MiB',
  [['      clinical.area: { data: clinical, type: long-text }', '      clinical.area: { data: clinical, type: file, accept: [pdf], max-size: 99999999 }']],
  'collection.scan-request.fields["clinical.area"].max-size',
  'max-size',
  /at most 26214400/,
);

expectProblem(
  '"no-marketing-sharing" is refused when a marketing purpose gives data to a controller',
  [
    ['  effective: 2026-11-01', '  effective: 2026-11-01\n  statements: [no-marketing-sharing]'],
    ['    recipients: [analytics]\n', '    recipients: [analytics, radiologists]\n    channels: { email: opt-in }\n'],
  ],
  'purposes.analytics.recipients[1]',
  'recipients: [analytics, radiologists]',
  /states "no-marketing-sharing", but this marketing purpose gives data to "radiologists"/,
);

expectProblem(
  'a UK cookie exemption cannot be relied on by a notice dated before the DUAA exemptions began',
  [
    ['  effective: 2026-11-01', '  effective: 2025-06-01'],
    ['provider: analytics }', 'provider: first-party, exemption: statistics }'],
    ['    basis: consent\n    subjects: [clinician]', '    basis: legitimate-interests\n    interest: Counting visits\n    subjects: [clinician]'],
  ],
  'cookies.ga.exemption',
  'exemption: statistics',
  /applies from 2026-02-05; a notice effective 2025-06-01 cannot rely on it/,
);
