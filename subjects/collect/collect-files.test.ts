// Files, phones and one-of groups at the collection API: the IT firm's job application with its CV, the dental
// lab's treatment photos recorded by staff, and its prescriptions that name the patient by name or number.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openFile, openValue } from '../../crypto/seal.ts';
import { multipart, type FilePart, sampleDocx, sampleJpeg, samplePdf, samplePng } from '../../test/helpers/sample-files.ts';
import { testApp, type TestApp } from '../../test/helpers/test-app.ts';
import { mergeSubjects, undoMerge } from '../merge-subjects.ts';

let it: TestApp;
let lab: TestApp;
before(async () => {
  it = await testApp('i-image-it');
  lab = await testApp('odl-dental-lab');
});
after(async () => {
  await it?.close();
  await lab?.close();
});

const application = { name: 'Ada Lovelace', email: 'ada@example.org', role: 'Support engineer' };

async function apply(cv: FilePart | string | undefined, extra: Record<string, string> = {}) {
  const parts: Record<string, string | FilePart> = { ...application, ...extra };
  if (cv !== undefined) parts.cv = cv;
  const { payload, headers } = multipart(parts);
  return it.app.inject({ method: 'POST', url: '/api/v1/collect/job-application', payload, headers });
}

type Problems = { error: { code: string; details: { problems: { field: string; code: string; problem: string }[] } } };
const problemsOf = (body: string) => (JSON.parse(body) as Problems).error.details.problems;

test('a CV sent as multipart is stored sealed under the person key: its name as the value, its bytes beside it', async () => {
  const pdf = samplePdf('Ada Lovelace CV');
  const res = await apply({ filename: 'Ada CV.pdf', content: pdf, type: 'application/pdf' }, { phone: '07700 900123' });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  const cv = await it.db.kysely.selectFrom('record').selectAll().where('subject_id', '=', subjectId).where('field', '=', 'cv').executeTakeFirstOrThrow();
  assert.equal(cv.value_text, null, 'a file is sealed, whatever its category');
  const file = await it.db.kysely.selectFrom('record_file').selectAll().where('record_id', '=', cv.id).executeTakeFirstOrThrow();
  assert.equal(file.media_type, 'application/pdf');
  assert.equal(Number(file.size_bytes), pdf.length);
  assert.equal(Buffer.from(file.content).includes(Buffer.from('Ada Lovelace CV')), false, 'the bytes are not stored in clear');
  const key = (await it.ctx.subjectKeys.get(it.db.kysely, subjectId))!;
  assert.equal(openValue(key, cv.value_sealed!, cv.id), 'Ada CV.pdf');
  assert.deepEqual(openFile(key, file.content, cv.id), pdf);
  const created = (await it.audits()).findLast((e) => e.action === 'record.create');
  assert.equal((created?.detail as { files?: number } | undefined)?.files, 1);

  // The phone came in national format: stored in E.164 for the controller's country (GB).
  const phone = await it.db.kysely
    .selectFrom('record')
    .select('value_text')
    .where('subject_id', '=', subjectId)
    .where('field', '=', 'phone')
    .executeTakeFirstOrThrow();
  assert.equal(phone.value_text, '+447700900123');
});

test('Word and OpenDocument CVs are accepted; a PDF renamed .png is a PDF, and a PNG renamed .pdf is refused', async () => {
  assert.equal((await apply({ filename: 'cv.docx', content: sampleDocx() })).statusCode, 201);
  const renamed = await apply({ filename: 'cv.pdf', content: samplePng(), type: 'application/pdf' });
  assert.equal(renamed.statusCode, 400);
  assert.deepEqual(
    problemsOf(renamed.body).map((p) => [p.field, p.code]),
    [['cv', 'file-type']],
  );
  assert.match(problemsOf(renamed.body)[0]!.problem, /pdf, docx, odt/);

  // The lab's photos take images only: a PDF named photo.png is refused for what it is.
  const staff = await lab.signedIn('staff');
  const sent = await recordPhoto(staff, { filename: 'photo.png', content: samplePdf(), type: 'image/png' });
  assert.equal(sent.statusCode, 400, sent.body);
  assert.deepEqual(
    problemsOf(sent.body).map((p) => [p.field, p.code]),
    [['photo', 'file-type']],
  );
});

test('too big is refused: a file over its field limit by field, a request declaring more than the form takes at once', async () => {
  const big = Buffer.concat([samplePdf(), Buffer.alloc(5 * 1024 * 1024)]);
  const res = await apply({ filename: 'cv.pdf', content: big });
  assert.equal(res.statusCode, 400, res.body);
  assert.deepEqual(
    problemsOf(res.body).map((p) => [p.field, p.code]),
    [['cv', 'file-too-big']],
  );
  const { payload } = multipart({ ...application, cv: { filename: 'cv.pdf', content: samplePdf() } });
  const declared = await it.app.inject({
    method: 'POST',
    url: '/api/v1/collect/job-application',
    payload,
    headers: { 'content-type': multipart({}).headers['content-type']!, 'content-length': String(7 * 1024 * 1024) },
  });
  assert.equal(declared.statusCode, 413);
  assert.equal(declared.json().error.code, 'payload_too_large');
});

test('a file field is a file: JSON text, a second file, an empty file or no file at all are refused, nothing stored', async () => {
  const before = await it.db.kysely
    .selectFrom('record_file')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const json = await it.app.inject({ method: 'POST', url: '/api/v1/collect/job-application', payload: { ...application, cv: 'cv.pdf' } });
  assert.deepEqual(
    problemsOf(json.body).map((p) => [p.field, p.code]),
    [['cv', 'file-expected']],
  );
  assert.deepEqual(
    problemsOf((await apply({ filename: 'cv.pdf', content: Buffer.alloc(0) })).body).map((p) => p.code),
    ['file-empty'],
  );
  assert.deepEqual(
    problemsOf((await apply(undefined)).body).map((p) => [p.field, p.code]),
    [['cv', 'required']],
  );
  // A browser sends an empty part for a file input left empty: that is no file.
  assert.deepEqual(
    problemsOf((await apply({ filename: '', content: Buffer.alloc(0) })).body).map((p) => [p.field, p.code]),
    [['cv', 'required']],
  );
  const text = await apply({ filename: 'cv.pdf', content: samplePdf() }, { 'cover-letter': 'x' });
  assert.equal(text.statusCode, 201, 'text fields travel in the same multipart body');
  const twoFiles = multipart({ ...application, cv: { filename: 'a.pdf', content: samplePdf() }, role: { filename: 'b.pdf', content: samplePdf() } });
  const refused = await it.app.inject({ method: 'POST', url: '/api/v1/collect/job-application', ...twoFiles });
  assert.equal(refused.statusCode, 400, refused.body);
  const after = await it.db.kysely
    .selectFrom('record_file')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(Number(after.n), Number(before.n) + 1);
});

async function recordPhoto(staff: Awaited<ReturnType<TestApp['signedIn']>>, photo: FilePart, extra: Record<string, string> = {}) {
  const { payload, headers } = multipart({
    channel: 'email',
    receivedAt: '2026-11-20',
    'fields.patient.number': 'AB-1234',
    'fields.practice.number': 'P77',
    'fields.photo': photo,
    ...extra,
  });
  return lab.app.inject({
    method: 'POST',
    url: '/api/v1/staff/collect/treatment-photos',
    payload,
    headers: { ...headers, cookie: [...staff.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': await staff.csrf() },
    remoteAddress: staff.ip,
  });
}

test('staff record a treatment photo that came by email; a merge moves the photo with its record, and its undoing moves it back', async () => {
  const staff = await lab.signedIn('staff');
  const photo = sampleJpeg();
  const res = await recordPhoto(staff, { filename: 'IMG_0001.jpg', content: photo, type: 'image/jpeg' });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId, recordIds } = res.json() as { subjectId: string; recordIds: string[] };
  const files = await lab.db.kysely.selectFrom('record_file').selectAll().where('record_id', 'in', recordIds).execute();
  assert.equal(files.length, 1);
  assert.equal(files[0]!.media_type, 'image/jpeg');
  const other = (await recordPhoto(staff, { filename: 'IMG_0002.jpg', content: photo }, { 'fields.patient.number': 'ZZ-9' })).json() as { subjectId: string };

  const { mergeId } = await mergeSubjects(lab.ctx, { from: subjectId, into: other.subjectId, actor: 'system:test' });
  const intoKey = (await lab.ctx.subjectKeys.get(lab.db.kysely, other.subjectId))!;
  const moved = await lab.db.kysely.selectFrom('record_file').selectAll().where('record_id', '=', files[0]!.record_id).executeTakeFirstOrThrow();
  assert.deepEqual(openFile(intoKey, moved.content, moved.record_id), photo, 're-sealed under the key of the person who stays');
  await undoMerge(lab.ctx, { mergeId, actor: 'system:test' });
  const back = await lab.db.kysely.selectFrom('record_file').selectAll().where('record_id', '=', files[0]!.record_id).executeTakeFirstOrThrow();
  assert.deepEqual(openFile((await lab.ctx.subjectKeys.get(lab.db.kysely, subjectId))!, back.content, back.record_id), photo);
});

test('a prescription must name the patient by name or number: neither is refused, field by field; either one is enough', async () => {
  const staff = await lab.signedIn('staff');
  const send = async (fields: Record<string, string>) =>
    staff.request({
      method: 'POST',
      url: '/api/v1/staff/collect/lab-prescription',
      json: { channel: 'post', receivedAt: '2026-11-20', fields: { 'practice.number': 'P77', appliance: 'Crown', 'treatment-plan': 'UR3 crown', ...fields } },
      html: false,
      headers: { 'x-csrf-token': await staff.csrf() },
    });
  const neither = await send({});
  assert.equal(neither.statusCode, 400);
  assert.deepEqual(
    problemsOf(neither.body).map((p) => [p.field, p.code, p.problem]),
    [
      ['patient.name', 'one-of', 'is required unless patient.number is given'],
      ['patient.number', 'one-of', 'is required unless patient.name is given'],
    ],
  );
  assert.equal((await send({ 'patient.name': 'Grace Hopper' })).statusCode, 201);
  assert.equal((await send({ 'patient.number': 'AB-77' })).statusCode, 201);
});

test('phone numbers: possible for the country in any usual writing, stored in E.164; impossible ones refused', async () => {
  for (const written of ['+44 7700 900123', '07700 900 123', '+44 (0)20 7946 0018']) {
    const res = await it.app.inject({
      method: 'POST',
      url: '/api/v1/collect/contact-form',
      payload: { name: 'Ada', email: 'ada@example.org', phone: written, message: 'Hello' },
    });
    assert.equal(res.statusCode, 201, `${written}: ${res.body}`);
  }
  const wrong = await it.app.inject({
    method: 'POST',
    url: '/api/v1/collect/contact-form',
    payload: { name: 'Ada', email: 'ada@example.org', phone: '0770', message: 'Hi' },
  });
  assert.deepEqual(
    problemsOf(wrong.body).map((p) => [p.field, p.code]),
    [['phone', 'phone']],
  );
});

test('the CV is listed in a later access answer with its name, type and size, and an erasure deletes the file', async () => {
  const pdf = samplePdf('Erasable CV');
  const res = await apply({ filename: 'Grace CV.pdf', content: pdf }, { email: 'grace@example.org', name: 'Grace Hopper' });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  const dpo = await it.signedIn('dpo');
  const call = async (url: string, json: unknown) => dpo.request({ method: 'POST', url, html: false, json, headers: { 'x-csrf-token': await dpo.csrf() } });
  const request = async (type: string) => {
    const made = await call('/api/v1/staff/requests', {
      type,
      channel: 'email',
      receivedAt: '2026-11-21',
      email: 'grace@example.org',
      verified: { method: 'document-seen', seen: 'passport' },
    });
    assert.equal(made.statusCode, 201, made.body);
    const id = made.json().id as string;
    assert.equal((await call(`/api/v1/staff/requests/${id}/link`, { subject: subjectId })).statusCode, 200);
    return id;
  };

  const access = await request('access');
  const preview = await dpo.request({ url: `/api/v1/staff/requests/${access}/answer`, html: false });
  assert.equal(preview.statusCode, 200, preview.body);
  const records = (preview.json() as { records: { field: string; value: string; file: { mediaType: string; size: number } | null }[] }).records;
  const cv = records.find((r) => r.field === 'cv');
  assert.deepEqual({ value: cv?.value, file: cv?.file }, { value: 'Grace CV.pdf', file: { mediaType: 'application/pdf', size: pdf.length } });

  const erasure = await request('erasure');
  const erased = await call(`/api/v1/staff/requests/${erasure}/erase`, {});
  assert.equal(erased.statusCode, 200, erased.body);
  const cvRecord = await it.db.kysely
    .selectFrom('record')
    .select(['id', 'state', 'value_sealed'])
    .where('subject_id', '=', subjectId)
    .where('field', '=', 'cv')
    .executeTakeFirstOrThrow();
  assert.equal(cvRecord.state, 'erased');
  assert.equal(cvRecord.value_sealed, null);
  assert.equal(
    (await it.db.kysely.selectFrom('record_file').select('record_id').where('record_id', '=', cvRecord.id).execute()).length,
    0,
    'the file is gone with its value',
  );
});

test('random multipart bodies to the API and the hosted form: never a 5xx, and a refused one stores nothing', async () => {
  const fc = (await import('fast-check')).default;
  const names = ['name', 'email', 'role', 'cv', 'phone', 'cover-letter', '__proto__', 'constructor', 'zz', 'cv[]'];
  const file = fc.record({
    filename: fc.oneof(fc.constantFrom('cv.pdf', 'cv.png', '', '../x', 'a"b.docx'), fc.string({ maxLength: 20 })),
    content: fc.oneof(
      fc.constantFrom(samplePdf(), sampleDocx(), samplePng(), Buffer.alloc(0)),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.concat([Buffer.from('%PDF-'), Buffer.from(b)])),
    ),
    type: fc.constantFrom('application/pdf', 'image/png', 'text/html', 'application/octet-stream'),
  });
  const body = fc.dictionary(fc.constantFrom(...names), fc.oneof(fc.string({ maxLength: 40 }), file), { maxKeys: 6 });
  const count = async () =>
    Number(
      (
        await it.db.kysely
          .selectFrom('record')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('/api/v1/collect/job-application', '/forms/job-application'), async (parts, url) => {
      const before = await count();
      const { payload, headers } = multipart(parts as Record<string, string | FilePart>);
      const res = await it.app.inject({ method: 'POST', url, payload, headers });
      assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body.slice(0, 200)}`);
      const stored = (await count()) - before;
      if (res.statusCode === 201 || res.statusCode === 303) assert.ok(stored > 0);
      else assert.equal(stored, 0, `${res.statusCode}: nothing stored`);
    }),
    { numRuns: 150 },
  );
});
