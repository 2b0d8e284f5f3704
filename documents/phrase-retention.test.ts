import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Retention } from '../register/schema.ts';
import { phraseRetention } from './phrase-retention.ts';

const register = { events: { 'scan-completed': { title: { en: 'your scan is completed', de: 'Abschluss Ihrer Untersuchung' } } } };
const rule = (r: Partial<Retention> & Pick<Retention, 'keep' | 'then'>): Retention => r;

test('a period after a declared event, then an action', () => {
  const r = rule({ keep: 'P8Y', after: 'scan-completed', then: 'erase' });
  assert.equal(phraseRetention(register, r, 'en'), '8 years after your scan is completed, then deleted');
  assert.equal(phraseRetention(register, r, 'de'), '8 Jahre nach Abschluss Ihrer Untersuchung, danach gelöscht');
});

test('built-in events read in both languages', () => {
  const r = rule({ keep: 'P14M', after: 'collected', then: 'anonymise' });
  assert.equal(phraseRetention(register, r, 'en'), '14 months after we collect it, then anonymised');
  assert.equal(phraseRetention(register, r, 'de'), '14 Monate nach der Erhebung, danach anonymisiert');
});

test("children's records: kept until a birthday when that is later", () => {
  const r = rule({ keep: 'P8Y', after: 'scan-completed', then: 'erase', 'until-age': 25 });
  assert.equal(phraseRetention(register, r, 'en'), '8 years after your scan is completed, or until your 25th birthday if that is later, then deleted');
  assert.match(phraseRetention(register, r, 'de'), /oder bis zu Ihrem 25\. Geburtstag/);
  const ordinal = (age: number) => /your (\S+) birthday/.exec(phraseRetention(register, { ...r, 'until-age': age }, 'en'))?.[1];
  assert.deepEqual([21, 22, 23, 11, 12, 13, 111].map(ordinal), ['21st', '22nd', '23rd', '11th', '12th', '13th', '111th']);
});

test('open-ended periods say what ends them', () => {
  assert.equal(
    phraseRetention(register, rule({ keep: 'until-objection', then: 'suppress' }), 'en'),
    'until you object, then reduced to a note that you do not want to be contacted',
  );
  assert.equal(phraseRetention(register, rule({ keep: 'until-withdrawn', then: 'erase' }), 'en'), 'until you withdraw your consent, then deleted');
  assert.equal(phraseRetention(register, rule({ keep: 'session', then: 'erase' }), 'en'), 'until your visit ends, then deleted');
  assert.equal(phraseRetention(register, rule({ keep: 'until-erasure-requested', then: 'erase' }), 'de'), 'bis Sie die Löschung verlangen, danach gelöscht');
});

test('off-site storage names the final step and when it happens', () => {
  const r = rule({ keep: 'P3M', after: 'collected', then: 'offsite', finally: { keep: 'P5Y', then: 'erase' } });
  assert.equal(phraseRetention(register, r, 'en'), '3 months after we collect it, then moved to secure off-site storage and deleted 5 years later');
  assert.equal(phraseRetention(register, r, 'de'), '3 Monate nach der Erhebung, danach in ein sicheres externes Archiv verlagert und 5 Jahre später gelöscht');
});

test('a period of zero keeps data until the event itself', () => {
  const r = rule({ keep: 'P0D', after: 'relationship-ended', then: 'erase' });
  assert.equal(phraseRetention(register, r, 'en'), 'until our business relationship ends, then deleted');
  assert.equal(phraseRetention(register, r, 'de'), 'bis zum Ende unserer Geschäftsbeziehung, danach gelöscht');
  assert.equal(phraseRetention(register, { ...r, after: 'account-closed' }, 'de'), 'bis zur Schließung Ihres Kontos, danach gelöscht');
});
