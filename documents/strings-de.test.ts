// Every German phrase is rendered in context: the German notices of the five examples and of the fixtures (with
// and without the installation's capabilities, UK and EU, before and after dated rules) must use every entry of
// strings-de.ts, and no English fixed phrase may appear in them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_CAPABILITIES, NO_CAPABILITIES } from '../register/capabilities.ts';
import { loadRegisterFile, type Register } from '../register/load-register.ts';
import { describeDuration } from './describe-duration.ts';
import { fixtureVariant, loadFixture } from './fixtures/load-fixture.ts';
import { phraseKeepUntil } from './phrase-keep-until.ts';
import { renderNotice } from './render-notice.ts';
import { de } from './strings-de.ts';
import { en } from './strings-en.ts';

/** Entries the German notice never shows: the Art. 30 record, the diagram and the change list are English only. */
const ENGLISH_ONLY_DOCUMENTS = ['basisShort', 'conditionShort', 'roleShort', 'safeguardShort'];

// Each leaf of the German strings becomes a getter that notes it was read, so rendering shows what it used.
const used = new Set<string>();
const leaves: string[] = [];
function instrument(node: Record<string, unknown>, path: string[]): void {
  for (const key of Object.keys(node)) {
    const value = node[key];
    const at = [...path, key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      instrument(value as Record<string, unknown>, at);
      continue;
    }
    leaves.push(at.join('.'));
    Object.defineProperty(node, key, {
      get() {
        used.add(at.join('.'));
        return value;
      },
      enumerable: true,
    });
  }
}
instrument(de as unknown as Record<string, unknown>, []);

const EXAMPLES = ['image-diagnostic-technology', 'image-solutions', 'image-information-systems', 'odl-dental-lab', 'i-image-it'];
const example = (name: string): Register => {
  const result = loadRegisterFile(fileURLToPath(new URL(`../examples/${name}/register.yaml`, import.meta.url)));
  assert.ok(result.ok, name);
  return result.register;
};
const ALL_PROMISES = ['cookie-settings', 'global-privacy-control', 'change-notices', 'privacy-centre', 'complaint-handling'];

const SPECIAL = ['health', 'genetic', 'biometric', 'racial-ethnic', 'political', 'religious', 'trade-union', 'sex-life', 'criminal'];
const CONDITIONS = [
  'explicit-consent',
  'employment',
  'vital-interests',
  'not-for-profit',
  'made-public',
  'legal-claims',
  'substantial-public-interest',
  'health-care',
  'public-health',
  'archiving-research',
];
const de2 = (en: string, de: string) => ({ en, de });

/** Registers written in German throughout (the examples other than IMAGE Information Systems have English text only). */
const german: Register[] = [
  example('image-information-systems'),
  loadFixture('full-uk.yaml'),
  loadFixture('eu.yaml'),
  // Every promise made, after the UK complaint duty began, by a health professional asking proof of identity always.
  fixtureVariant('full-uk.yaml', (d) => {
    d.notice.promises = ALL_PROMISES;
    d.notice.statements = ['no-sale', 'no-marketing-sharing', 'gdpr-principles'];
    d.controller['health-professional'] = true;
    d.controller['eu-complaints'] = true;
    d.controller.responsible = [{ name: 'Dr. Ada Muster', role: { en: 'Managing director', de: 'Geschäftsführerin' } }];
    d.rights.identity = 'always';
    d.rights['further-copy-fee'] = undefined;
    delete d.notice.version;
    d.purposes['site-statistics'].retention = { keep: 'P1Y', after: 'collected', then: 'review', or: ['until-objection'] };
    d.purposes.accounts.data = ['contact', 'clinical'];
    d.purposes.accounts.condition = 'public-health';
    d.collection['scan-request']['one-of'] = [['patient.name', 'clinical.area']];
    d.collection['scan-request'].fields['patient.name'].required = false;
    d.cookies.prefs = { names: ['theme'], purpose: 'site-statistics', lasts: 'P1Y', provider: 'first-party', exemption: 'appearance' };
  }),
  // The same promises before 19 June 2026, without a marketing note to keep, nothing kept by contract or consent.
  fixtureVariant('full-uk.yaml', (d) => {
    d.notice.promises = ALL_PROMISES;
    d.notice.effective = '2026-03-01';
    d.purposes.newsletter.retention = { keep: 'until-withdrawn', then: 'erase' };
  }),
  // An EU register without its own authority, recipients or forms: nothing shared, sent abroad or portable.
  fixtureVariant('eu.yaml', (d) => {
    delete d.controller.authority;
    delete d.collection;
    for (const p of Object.values(d.purposes) as { recipients?: string[] }[]) p.recipients = [];
    d.cookies = {};
    delete d.recipients;
  }),
  // Every basis, Art. 9 condition, special category, recipient role, safeguard and channel, and a UK authority.
  fixtureVariant('full-uk.yaml', (d) => {
    d.controller.authority = { name: de2('Office of the Data Commissioner', 'Büro des Datenschutzbeauftragten') };
    for (const kind of SPECIAL) d.data[`sp-${kind}`] = { title: de2(`Special ${kind}`, `Besondere Daten ${kind}`), special: kind };
    CONDITIONS.forEach((condition, i) => {
      d.purposes[`p-${condition}`] = {
        title: de2(`Purpose ${condition}`, `Zweck ${condition}`),
        basis: condition === 'explicit-consent' ? 'consent' : 'public-task',
        condition,
        subjects: ['patient'],
        data: [`sp-${SPECIAL[i % SPECIAL.length]}`, ...(i === 0 ? SPECIAL.map((k) => `sp-${k}`) : [])],
        recipients: i === 0 ? ['partner', 'group', 'occasional'] : [],
        retention: { keep: 'P1Y', after: 'collected', then: 'restrict' },
        ...(i === 0 ? { channels: { 'automated-call': 'opt-in' } } : {}),
      };
    });
    d.recipients.partner = { title: de2('Joint partner', 'Gemeinsamer Partner'), role: 'joint-controller', country: 'GB' };
    d.recipients.group = { title: de2('Group company', 'Konzerngesellschaft'), role: 'controller', country: 'IN', transfer: { safeguard: 'bcr' } };
    d.recipients.occasional = {
      title: de2('Occasional helper', 'Gelegentlicher Helfer'),
      role: 'controller',
      country: 'BR',
      transfer: { safeguard: 'derogation', occasional: true },
    };
    for (const channel of ['in-person', 'api', 'other-organisation']) {
      d.collection[`via-${channel}`] = {
        title: de2(`Point ${channel}`, `Stelle ${channel}`),
        subject: 'clinician',
        channel,
        fields: { email: { data: 'contact', type: 'email', identifier: 'email' } },
        purposes: ['accounts'],
      };
    }
  }),
];

const registers: Register[] = [...EXAMPLES.filter((n) => n !== 'image-information-systems').map(example), ...german];

const render = (list: Register[]) =>
  list.flatMap((r) => [
    renderNotice(r, { format: 'html', lang: 'de', capabilities: NO_CAPABILITIES }),
    renderNotice(r, { format: 'md', lang: 'de', capabilities: ALL_CAPABILITIES }),
  ]);
render(registers);
const germanPages = render(german);

// Words for durations and for the keep-until dates of the person page, in German.
for (const d of ['P1Y', 'P2Y', 'P1M', 'P3M', 'P1W', 'P2W', 'P1D', 'P2D', 'PT1H', 'PT2H', 'PT1M', 'PT30M', 'PT1S', 'PT5S', 'P0D']) describeDuration(d, 'de');
const uk = loadFixture('full-uk.yaml');
phraseKeepUntil(uk, 'gone', { kind: 'no-rule' }, 'de');
phraseKeepUntil(uk, 'provide-scan', { kind: 'pending', notBefore: null }, 'de');
phraseKeepUntil(uk, 'provide-scan', { kind: 'pending', notBefore: new Date('2040-01-01') }, 'de');
phraseKeepUntil(uk, 'provide-scan', { kind: 'date', date: new Date('2040-01-01'), lowerBound: true }, 'de');

test('every German phrase is used by a German document in context', () => {
  const unused = leaves.filter((leaf) => !used.has(leaf) && !ENGLISH_ONLY_DOCUMENTS.includes(leaf.split('.')[0]!));
  assert.deepEqual(unused, []);
});

test('no English fixed phrase appears in a German notice', () => {
  const english: string[] = [];
  const walk = (node: unknown, deNode: unknown) => {
    if (typeof node === 'string') {
      if (node.length >= 12 && node !== deNode) english.push(node);
    } else if (Array.isArray(node)) {
      node.forEach((x, i) => {
        walk(x, (deNode as unknown[])[i]);
      });
    } else if (node && typeof node === 'object')
      for (const k of Object.keys(node))
        if (!ENGLISH_ONLY_DOCUMENTS.includes(k)) walk((node as Record<string, unknown>)[k], (deNode as Record<string, unknown>)[k]);
  };
  walk(en, de);
  assert.ok(english.length > 100, 'the English phrases are found');
  for (const page of germanPages) for (const phrase of english) assert.ok(!page.includes(phrase), `English in a German notice: ${phrase}`);
});
