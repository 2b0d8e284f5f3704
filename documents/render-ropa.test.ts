import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureVariant, loadFixture } from './fixtures/load-fixture.ts';
import { phraseRetention } from './phrase-retention.ts';
import { renderRopa, type Ropa } from './render-ropa.ts';

const uk = loadFixture('full-uk.yaml');
const eu = loadFixture('eu.yaml');
const json = (r = uk) => JSON.parse(renderRopa(r, 'json')) as Ropa;

/** RFC 4180 reader, to check the CSV the way a spreadsheet reads it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  assert.equal(field + row.join(''), '', 'the CSV ends with CRLF');
  return rows;
}

test('one Art. 30(1) row per purpose, with every field the article lists', () => {
  const ropa = json();
  assert.equal(ropa.record.length, Object.keys(uk.purposes).length);
  const scan = ropa.record.find((r) => r.purposeKey === 'provide-scan')!;
  assert.ok(scan.controller.startsWith('Harbour Imaging Ltd, 12 Quay Street, Bristol BS1 4DJ, privacy@harbour.example'));
  assert.match(scan.dpo, /Sam Patel.*dpo@harbour\.example/);
  assert.equal(scan.legalBasis, 'Contract (Article 6(1)(b) UK GDPR)');
  assert.equal(scan.legalBasisDpv, 'https://w3id.org/dpv#Contract');
  assert.equal(scan.art9Condition, 'Health or social care (Article 9(2)(h) UK GDPR)');
  assert.equal(scan.art9ConditionDpv, 'https://w3id.org/dpv/legal/eu/gdpr#A9-2-h');
  assert.deepEqual(scan.dataSubjects, ['Referring dentists', 'Patients referred for a scan']);
  assert.ok(scan.personalData.includes('Clinical details of the scan requested (special category: health data)'));
  assert.deepEqual(scan.specialCategories, ['health data']);
  assert.ok(scan.recipients.includes('Image hosting provider (processor; United States; CloudPACS Inc.)'));
  assert.deepEqual(scan.transfers, ['Image hosting provider: United States, standard contractual clauses with the UK Addendum']);
  assert.ok(scan.erasureTimeLimit.toLowerCase().startsWith(phraseRetention(uk, uk.purposes['provide-scan']!.retention, 'en')), 'same phrase as the notice');
  assert.deepEqual(scan.securityMeasures, uk.security);
  assert.deepEqual(scan.sources, ['Referring dentists, via Scan request (on our website)', 'The data subject, via Practice registration (on our website)']);
  const credit = ropa.record.find((r) => r.purposeKey === 'credit-check')!;
  assert.ok(credit.sources.includes('Credit reference agencies (United Kingdom)'));
  const stats = ropa.record.find((r) => r.purposeKey === 'site-statistics')!;
  assert.equal(stats.legitimateInterest, 'Knowing which pages are useful');
  assert.equal(ropa.record.find((r) => r.purposeKey === 'accounts')!.law, 'Companies Act 2006');
  assert.deepEqual(ropa.generatedFrom, { fingerprint: uk.fingerprint, version: '2026-11', effective: '2026-11-01' });
});

test('joint controllers and the representative are recorded', () => {
  const joint = fixtureVariant('eu.yaml', (d) => {
    d.recipients['group-japan'].role = 'joint-controller';
  });
  const row = json(joint).record[0]!;
  assert.deepEqual(row.jointControllers, ['Our parent company (joint controller; Japan)']);
  assert.match(row.representative, /Our UK representative, uk-rep@example\.test/);
  assert.equal(row.transfers.length, 2, 'Japan (adequacy) and the US (SCC) are both outside the EEA');
  assert.ok(row.transfers.includes('Ticketing service: United States, standard contractual clauses'));
});

test('a processor also gets the Art. 30(2) record; a controller alone does not', () => {
  const ropa = json();
  assert.equal(ropa.processorRecord?.length, 1);
  const activity = ropa.processorRecord![0]!;
  assert.ok(activity.processor.startsWith('Harbour Imaging Ltd'));
  assert.deepEqual(activity.controllers, ['Smile Dental Group, 1 Smile Way, Leeds LS1 1AA, dpo@smile.example']);
  assert.deepEqual(activity.categoriesOfProcessing, ['Hosting imaging archives for dental groups']);
  assert.deepEqual(activity.transfers, ['Our hosting provider: Japan, adequacy decision']);
  assert.ok(activity.securityMeasures.length > 0);
  assert.equal(json(eu).processorRecord, undefined);
  assert.ok(!('processorRecord' in json(eu)));
});

test('CSV: RFC 4180 quoting, one header, every row the same width, multi-values joined with "; "', () => {
  const tricky = fixtureVariant('full-uk.yaml', (d) => {
    d.purposes.accounts.description = 'Says "hello", then\nleaves';
  });
  const csv = renderRopa(tricky, 'csv');
  assert.match(csv, /\r\n$/);
  const rows = parseCsv(csv);
  const [header, ...body] = rows;
  assert.ok(header);
  assert.equal(header[0], 'Record');
  assert.equal(body.length, Object.keys(tricky.purposes).length + 1);
  for (const row of body) assert.equal(row.length, header.length);
  const col = (name: string) => header.indexOf(name);
  const accounts = body.find((r) => r[1] === 'Keep our accounts')!;
  assert.equal(accounts[col('Description')], 'Says "hello", then\nleaves');
  const scan = body.find((r) => r[1] === 'Arrange the scan your dentist requested')!;
  assert.equal(scan[col('Categories of data subjects')], 'Referring dentists; Patients referred for a scan');
  const processor = body.find((r) => r[0] === 'Art. 30(2) processor')!;
  assert.equal(processor[col('Controllers on whose behalf we act')], 'Smile Dental Group, 1 Smile Way, Leeds LS1 1AA, dpo@smile.example');
  assert.equal(processor[col('Legal basis')], '');
});

test('HTML: one captioned table per purpose with row headers, and register text escaped', () => {
  const html = renderRopa(
    fixtureVariant('full-uk.yaml', (d) => {
      d.purposes.accounts.title = 'Accounts <script>alert(1)</script>';
    }),
    'html',
  );
  assert.match(html, /^<!doctype html>/);
  assert.equal(html.match(/<table[ >]/g)?.length, Object.keys(uk.purposes).length + 1);
  assert.match(html, /<caption>Arrange the scan your dentist requested<\/caption>/);
  assert.match(html, /<th scope="row" role="rowheader">Time limit for erasure<\/th><td role="cell">8 years after your scan is completed/);
  assert.match(html, /<h2 id="processor-record">/);
  assert.doesNotMatch(html, /<script/);
  assert.ok(html.includes('Accounts &lt;script&gt;'));
});
