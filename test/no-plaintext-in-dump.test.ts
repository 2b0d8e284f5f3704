// A stolen database backup must not reveal special-category data: those values are sealed (AES-256-GCM under a
// per-subject key) before they reach the database. For every collection point of every example register, a unique
// canary goes into each sealed free-text field and the point is submitted over HTTP; then a full dump is searched
// byte by byte: pg_dump (plain SQL and the custom format) on PostgreSQL, the raw data directory on PGlite. No sealed
// canary may appear, while the unsealed canaries planted beside them must (so the search is known to work).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { sql } from 'kysely';
import { openValue } from '../crypto/seal.ts';
import { keysOf } from './helpers/test-keyring.ts';
import type { Db } from '../db/connect.ts';
import { isSealedCategory as isSealed } from '../register/categories.ts';
import { unsubmittableReason, validSubmission, type Submission } from './helpers/submission-arbitraries.ts';
import { testApp, type TestApp } from './helpers/test-app.ts';
import { type FilePart, multipart, samplePdf } from './helpers/sample-files.ts';
import { PUBLIC_CHANNELS } from '../subjects/collect/collect-routes.ts';
import type { Browser } from './helpers/staff-client.ts';

const EXAMPLES = ['image-diagnostic-technology', 'i-image-it', 'image-information-systems', 'image-solutions', 'odl-dental-lab'];
const run = promisify(execFile);
const canary = (kind: string) => `${kind}-CANARY-${randomBytes(8).toString('hex')}`;

interface Planted {
  /** In sealed fields: must never appear in a dump. */
  readonly sealed: { point: string; field: string; value: string }[];
  /** In ordinary text fields: must appear, or the search is not looking at the data. */
  readonly plain: string[];
  /** Sealed-field canaries of a refused hosted-form post: the form keeps a draft of what was typed, never these. */
  readonly sealedDrafts: string[];
  /** Ordinary canaries of refused hosted-form posts: in the dump exactly when the register keeps drafts. */
  readonly plainDrafts: string[];
  /** Sealed fields that cannot hold a canary (choices, dates, files…): checked in the record table instead. */
  readonly sealedOther: string[];
  readonly subjects: string[];
}

/** Submits every point that can be submitted, with a canary in each free-text field, and returns what went where. */
async function plant(t: TestApp): Promise<Planted> {
  const { register } = t;
  const planted: Planted = { sealed: [], plain: [], sealedDrafts: [], plainDrafts: [], sealedOther: [], subjects: [] };
  let staff: Browser | undefined;
  for (const [key, point] of Object.entries(register.collection)) {
    const arb = validSubmission(register, key, { allOptional: true });
    if (!arb) {
      for (const [name, f] of Object.entries(point.fields))
        if (isSealed(register, f.data)) planted.sealedOther.push(`${key}.${name} (point not submittable: ${unsubmittableReason(register, key)})`);
      continue;
    }
    const sub: Submission = fc.sample(arb, { numRuns: 1, seed: 42 })[0]!;
    for (const [name, f] of Object.entries(point.fields)) {
      const freeText = (f.type === 'text' || f.type === 'long-text') && !f.identifier && !f.consent;
      if (isSealed(register, f.data)) {
        if (!freeText) {
          planted.sealedOther.push(`${key}.${name} (${f.type})`);
          continue;
        }
        const value = canary('CLINICAL');
        assert.ok(value.length <= (f.max ?? 500), `${key}.${name} is too short for a canary`);
        sub[name] = f.type === 'long-text' ? `${value}\nleft mandible, suspected cyst` : value;
        planted.sealed.push({ point: key, field: name, value });
      } else if (freeText && roomForCanary(f.max)) {
        const v = canary('PLAIN');
        sub[name] = v;
        planted.plain.push(v);
      }
    }
    // Points people use themselves are public; letters and calls are recorded by staff through their route.
    let res: Awaited<ReturnType<typeof t.app.inject>>;
    if (PUBLIC_CHANNELS.has(point.channel)) res = await t.app.inject({ method: 'POST', url: `/api/v1/collect/${key}`, payload: sub });
    else {
      staff ??= await t.signedIn('staff');
      const body = { channel: point.channel, receivedAt: '2026-11-20', fields: sub };
      res = await staff.request({
        method: 'POST',
        url: `/api/v1/staff/collect/${key}`,
        json: body,
        html: false,
        headers: { 'x-csrf-token': await staff.csrf() },
      });
    }
    assert.equal(res.statusCode, 201, `${key}: ${res.body}`);
    planted.subjects.push((res.json() as { subjectId: string }).subjectId);

    // The hosted HTML form of the point, posted with one undeclared field: refused, and its draft kept.
    if (!t.app.hasRoute({ method: 'POST', url: `/forms/${key}` })) continue;
    const form = new URLSearchParams({ 'zz-not-a-field': '1' });
    for (const [name, v] of Object.entries(sub)) {
      const sealedCanary = planted.sealed.some((p) => p.point === key && p.field === name);
      const fresh = sealedCanary ? canary('CLINICAL') : planted.plain.includes(String(v)) ? canary('PLAIN') : String(v);
      if (fresh.startsWith('CLINICAL')) planted.sealedDrafts.push(fresh);
      else if (fresh.startsWith('PLAIN')) planted.plainDrafts.push(fresh);
      form.append(name, fresh);
    }
    const refused = await t.app.inject({
      method: 'POST',
      url: `/forms/${key}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    assert.equal(refused.statusCode, 400, `/forms/${key}: ${refused.body.slice(0, 200)}`);
  }
  return planted;
}

function roomForCanary(max: number | undefined): boolean {
  return max === undefined || max >= canary('PLAIN').length;
}

/** The whole database as bytes: every table of the test's schema (PostgreSQL), or every data file (PGlite). */
async function dumps(db: Db): Promise<{ name: string; bytes: Buffer }[]> {
  if (db.postgres) {
    const pgDump = existsSync('/usr/bin/pg_dump') ? '/usr/bin/pg_dump' : 'pg_dump';
    const schema = db.postgres.schema;
    assert.ok(schema, 'the test database has a schema of its own');
    const args = [`--dbname=${db.postgres.url}`, `--schema=${schema}`, '--no-owner'];
    const plain = await run(pgDump, [...args, '--format=plain'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
    // Uncompressed, so table data is searchable as written (compressed, no value would be found, canary or not).
    const custom = await run(pgDump, [...args, '--format=custom', '--compress=0'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
    return [
      { name: 'pg_dump --format=plain', bytes: plain.stdout },
      { name: 'pg_dump --format=custom', bytes: custom.stdout },
    ];
  }
  // Flush shared buffers to the heap files too, so the files hold the rows and not only the write-ahead log.
  await sql`CHECKPOINT`.execute(db.kysely);
  const file = await db.pglite!.dumpDataDir();
  let bytes = Buffer.from(await file.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  assert.equal(bytes.subarray(257, 262).toString('latin1'), 'ustar', 'PGlite dumps its data directory as a tar archive');
  return [{ name: 'PGlite data directory', bytes }];
}

const sealedExamples: string[] = [];
let draftsChecked = 0;

for (const example of EXAMPLES) {
  test(`${example}: no sealed value appears in a full database dump or in the audit trail`, async () => {
    const t = await testApp(example);
    try {
      const planted = await plant(t);
      const { register } = t;
      // Files (the IT firm's CV): their bytes and their name are sealed too.
      const fileCanaries: string[] = [];
      for (const [key, point] of Object.entries(register.collection)) {
        const fileFields = Object.entries(point.fields).filter(([, f]) => f.type === 'file');
        if (fileFields.length === 0 || !PUBLIC_CHANNELS.has(point.channel)) continue;
        const parts: Record<string, string | FilePart> = {};
        for (const [name, f] of Object.entries(point.fields)) {
          if (f.type === 'file') {
            const [inFile, inName] = [canary('CLINICAL'), canary('CLINICAL')];
            fileCanaries.push(inFile, inName);
            parts[name] = { filename: `${inName}.pdf`, content: samplePdf(inFile) };
          } else if (f.required) parts[name] = f.type === 'email' ? 'file.canary@example.org' : 'Filed';
        }
        const res = await t.app.inject({ method: 'POST', url: `/api/v1/collect/${key}`, ...multipart(parts) });
        assert.equal(res.statusCode, 201, `${key}: ${res.body}`);
      }
      if (planted.sealed.length > 0) sealedExamples.push(example);
      if (register.service['visitor-session']) draftsChecked += planted.sealedDrafts.length;

      // The sealed canaries are in the database, encrypted: each opens to what was sent.
      for (const { point, field, value: v } of planted.sealed) {
        const row = await t.db.kysely
          .selectFrom('record')
          .selectAll()
          .where('collection_point', '=', point)
          .where('field', '=', field)
          .executeTakeFirstOrThrow();
        assert.equal(row.value_text, null, `${point}.${field} is stored in clear`);
        assert.ok(row.value_sealed, `${point}.${field} has no sealed value`);
        const dek = await keysOf(t.keyring).get(t.db.kysely, row.subject_id);
        assert.ok(openValue(dek!, row.value_sealed, row.id).startsWith(v), `${point}.${field} does not open to its canary`);
      }
      // Every value of a sealed category, canary or not (choices, dates), is sealed and never in clear.
      const sealedCategories = Object.keys(register.data).filter((c) => isSealed(register, c));
      if (sealedCategories.length > 0) {
        const clear = await t.db.kysely
          .selectFrom('record')
          .select(['field'])
          .where('category', 'in', sealedCategories)
          .where((eb) => eb.or([eb('value_text', 'is not', null), eb('value_sealed', 'is', null)]))
          .execute();
        assert.deepEqual(clear, [], 'records of a sealed category held in clear');
      }

      for (const { name, bytes } of await dumps(t.db)) {
        for (const v of planted.plain) assert.ok(bytes.includes(Buffer.from(v)), `${name}: the unsealed canary ${v} is missing, so the search proves nothing`);
        for (const { point, field, value: v } of planted.sealed)
          assert.ok(!bytes.includes(Buffer.from(v)), `${name}: the sealed value of ${point}.${field} is in the dump in clear`);
        for (const v of planted.sealedDrafts)
          assert.ok(!bytes.includes(Buffer.from(v)), `${name}: a sealed value typed into a refused form is in the dump in clear`);
        for (const v of fileCanaries) assert.ok(!bytes.includes(Buffer.from(v)), `${name}: a file or its name is in the dump in clear`);
        if (register.service['visitor-session']) {
          for (const v of planted.plainDrafts)
            assert.ok(bytes.includes(Buffer.from(v)), `${name}: the draft of a refused form was not kept (or the search does not see it)`);
        }
      }

      // The audit trail records who did what to which ids: never a value, sealed or not.
      const { rows } = await sql<{ row: string }>`SELECT row_to_json(a)::text AS row FROM audit_event a`.execute(t.db.kysely);
      const audit = rows.map((r) => r.row).join('\n');
      for (const subject of planted.subjects) assert.ok(audit.includes(subject), `no audit event names subject ${subject}`);
      for (const v of [...planted.plain, ...planted.plainDrafts, ...planted.sealedDrafts, ...planted.sealed.map((s) => s.value), ...fileCanaries])
        assert.ok(!audit.includes(v), `the audit trail holds the value ${v}`);

      assert.ok(planted.plain.length > 0, 'at least one unsealed canary was planted as a control');
    } finally {
      await t.close();
    }
  });
}

test('the examples with special-category free text were really exercised, hosted-form drafts included', () => {
  // scan.area (image-diagnostic-technology) and treatment-plan (odl-dental-lab) are the sealed free-text fields;
  // image-diagnostic-technology keeps drafts of its hosted forms (it declares a visitor session).
  assert.deepEqual(sealedExamples.sort(), ['image-diagnostic-technology', 'odl-dental-lab']);
  assert.ok(draftsChecked > 0, 'a refused hosted form with a sealed value was checked');
});
