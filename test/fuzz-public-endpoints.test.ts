// What anyone on the internet can send, without signing in, is fuzzed with fast-check: every public route of the
// app (read from the app itself, so a new one cannot be missed), at least 1,000 generated malformed requests each.
// A malformed request must get a 4xx with a coded JSON error (or, on the HTML form pages, the form again), never a
// 5xx, never a 2xx, never a stack trace; and it must leave nothing behind: no subject, record, identifier, consent,
// audit event, data key, session or sign-in attempt, and no property added to Object.prototype.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { listRoutes, publicRoutes, type RouteEntry } from './helpers/public-routes.ts';
import {
  anyShapeObject,
  anyString,
  brokenJsonText,
  decoded,
  emptyBodies,
  FORM_TYPE,
  garbageForm,
  hugeOrDeep,
  invalidSubmission,
  JSON_TYPES,
  junkScalar,
  nonObjectJson,
  objectOf,
  pct,
  put,
  WRONG_TYPES,
  type Body,
} from './helpers/malformed-arbitraries.ts';
import { emailArb, expectedRecords, formEncoded, nested, unsubmittableReason, validSubmission } from './helpers/submission-arbitraries.ts';
import { testApp } from './helpers/test-app.ts';
import { PUBLIC_CHANNELS } from '../subjects/collect/collect-routes.ts';
import { REQUEST_TYPES } from '../requests/tables.ts';

const RUNS = 1000;
const EXAMPLE = 'image-diagnostic-technology';
const t = await testApp(EXAMPLE);
after(() => t.close());
const { register } = t;
await t.app.ready();

// ---- what is stored -------------------------------------------------------------------------------------------

const TABLES = [
  'subject',
  'record',
  'subject_identifier',
  'consent_event',
  'audit_event',
  'subject_key',
  'staff_session',
  'sign_in_attempt',
  'rights_request',
  'mail_outbox',
] as const;
type Counts = Record<(typeof TABLES)[number], number>;

// A refused hosted form keeps what was typed as a draft (visitor_session, not counted), and keeping it is audited:
// those events are the one change a refusal may make.
const DRAFTS = `action <> 'visitor.draft'`;

async function rowCounts(db: Db): Promise<Counts> {
  const { rows } = await sql
    .raw<Record<string, unknown>>(
      `SELECT ${TABLES.map((n) => `(SELECT count(*) FROM ${n}${n === 'audit_event' ? ` WHERE ${DRAFTS}` : ''}) AS ${n}`).join(', ')}`,
    )
    .execute(db.kysely);
  return Object.fromEntries(TABLES.map((n) => [n, Number(rows[0]![n])])) as Counts;
}

/**
 * Asked after every request: every change to personal data appends an audit event in the same transaction (audit/).
 * The full row counts are compared once per property.
 */
async function auditPosition(db: Db): Promise<number> {
  const { rows } = await sql<{ n: unknown }>`SELECT count(*) AS n FROM audit_event WHERE ${sql.raw(DRAFTS)}`.execute(db.kysely);
  return Number(rows[0]!.n);
}

const PROTOTYPE_KEYS = Reflect.ownKeys(Object.prototype).map(String).sort().join();
function assertPrototypeClean(): void {
  assert.equal(Reflect.ownKeys(Object.prototype).map(String).sort().join(), PROTOTYPE_KEYS, 'Object.prototype gained a property');
  for (const k in {}) assert.fail(`Object.prototype gained the enumerable property ${k}`);
}

// ---- requests -------------------------------------------------------------------------------------------------

interface Req {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload?: string | Buffer;
  /** Where the generator knows the one right answer. */
  readonly expectedStatus?: number;
}

function short(text: string | Buffer | undefined): string {
  const s = text === undefined ? '(none)' : typeof text === 'string' ? text : `<${text.length} bytes> ${text.toString('utf8')}`;
  return JSON.stringify(s.length > 400 ? `${s.slice(0, 400)}… (${s.length} chars)` : s);
}

/** A request that prints readably (and briefly) in fast-check's counterexamples. */
function request(r: Req): Req {
  return Object.assign(r, {
    [fc.toStringMethod]: () =>
      `${r.method} ${short(r.url)} ${JSON.stringify(r.headers)} body ${short(r.payload)}${r.expectedStatus ? ` (expect ${r.expectedStatus})` : ''}`,
  });
}

function encode(method: string, url: string, body: Body, typeOverride?: string | null, extra: Record<string, string> = {}): Req {
  const withType = (type: string | null, payload?: string | Buffer) =>
    request({ method, url, headers: { ...extra, ...(type === null ? {} : { 'content-type': type }) }, ...(payload === undefined ? {} : { payload }) });
  switch (body.kind) {
    case 'json':
      return withType(typeOverride === undefined ? 'application/json' : typeOverride, JSON.stringify(body.value));
    case 'form':
      return withType(typeOverride === undefined ? FORM_TYPE : typeOverride, formEncoded(body.pairs));
    case 'text':
      return withType(typeOverride === undefined ? body.type : typeOverride, typeof body.text === 'string' ? body.text : Buffer.from(body.text));
    case 'empty':
      return withType(typeOverride === undefined ? body.type : typeOverride);
  }
}

const inject = (r: Req): Promise<LightMyRequestResponse> =>
  t.app.inject({ method: r.method as InjectOptions['method'], url: r.url, headers: r.headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });

const STACK = /\bat\s+(?:\S+\s+\()?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+|node_modules|node:internal/;

/** A refusal a client can act on: 4xx, a coded JSON error (or, where `html` is allowed, a page), no stack trace. */
function assertRefused(res: LightMyRequestResponse, html = false): void {
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `status ${res.statusCode}: ${res.body.slice(0, 300)}`);
  assert.doesNotMatch(res.body, STACK, 'the answer shows a stack trace');
  const type = String(res.headers['content-type'] ?? '');
  if (html && type.startsWith('text/html')) {
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /<form\b/);
    return;
  }
  assert.match(type, /^application\/json/, `content-type ${type}`);
  const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(typeof body.error?.code, 'string', res.body.slice(0, 300));
  assert.equal(typeof body.error?.message, 'string', res.body.slice(0, 300));
}

/** Runs the property RUNS times; POSTs are checked to audit nothing after every request; all row counts at the end. */
async function fuzz(requests: fc.Arbitrary<Req>, check: (req: Req, res: LightMyRequestResponse) => void, perRequest: boolean): Promise<void> {
  const before = await rowCounts(t.db);
  const position = await auditPosition(t.db);
  await fc.assert(
    fc.asyncProperty(requests, async (req) => {
      const res = await inject(req);
      check(req, res);
      assertPrototypeClean();
      if (perRequest) assert.equal(await auditPosition(t.db), position, 'a refused request changed something (an audit event was written)');
    }),
    { numRuns: RUNS },
  );
  assert.deepEqual(await rowCounts(t.db), before, 'refused requests stored something');
}

// ---- which fuzzer for which route -------------------------------------------------------------------------------

type Fuzzer =
  | { kind: 'collect' | 'form-page'; point: string }
  | {
      kind:
        | 'unknown-point'
        | 'sign-in'
        | 'get'
        | 'centre-page'
        | 'centre-form'
        | 'centre-link'
        | 'centre-confirm'
        | 'request-api'
        | 'consent-api'
        | 'consent-read'
        | 'newsletter';
    };

function fuzzerFor(r: RouteEntry): Fuzzer | undefined {
  // The privacy centre: pages that answer a person (a form again, or a page saying the link does not work).
  if (r.url === '/privacy-center/:right') return r.method === 'GET' ? { kind: 'centre-page' } : r.method === 'POST' ? { kind: 'centre-form' } : undefined;
  if (r.url === '/privacy-center/confirm') return r.method === 'GET' ? { kind: 'centre-link' } : r.method === 'POST' ? { kind: 'centre-confirm' } : undefined;
  if (r.url === '/privacy-center/answer' && r.method === 'GET') return { kind: 'centre-link' };
  if (r.url === '/api/v1/requests' && r.method === 'POST') return { kind: 'request-api' };
  // The consent API (consent/consent-routes.ts): choices, the state and receipts by id, the CORS preflight.
  if (r.url === '/api/v1/consent' && r.method === 'POST') return { kind: 'consent-api' };
  if (/^\/api\/v1\/consent(\/|$)/.test(r.url) && (r.method === 'GET' || r.method === 'OPTIONS')) return { kind: 'consent-read' };
  // Mailed links: the newsletter's, and the confirmation of email consent ticked on a form.
  if (['/api/v1/newsletter/subscribe', '/newsletter/confirm', '/unsubscribe', '/consent/confirm'].includes(r.url)) return { kind: 'newsletter' };
  if (r.method === 'GET') return /[:*]/.test(r.url) ? undefined : { kind: 'get' };
  if (r.method !== 'POST') return undefined;
  const collect = /^\/api\/v1\/collect\/([^/:*]+)$/.exec(r.url)?.[1];
  if (collect && Object.hasOwn(register.collection, collect)) return { kind: 'collect', point: collect };
  if (r.url === '/api/v1/collect/:point') return { kind: 'unknown-point' };
  const form = /^\/forms\/([^/:*]+)$/.exec(r.url)?.[1];
  if (form && Object.hasOwn(register.collection, form)) return { kind: 'form-page', point: form };
  if (r.url === '/console/sign-in') return { kind: 'sign-in' };
  return undefined;
}

const routes = publicRoutes(t.app);
/** Points people submit themselves; the others (post, phone) are staff-only and must not be public routes. */
const publicPoints = Object.keys(register.collection).filter((k) => PUBLIC_CHANNELS.has(register.collection[k]!.channel));
const openapi = (await t.app.inject({ url: '/openapi.json' })).json() as {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: { enum?: string[] } }[] }>>;
};

test('every public route is known to the fuzzer, every collection point and the documented API among them', () => {
  const all = new Set(listRoutes(t.app).map((r) => `${r.method} ${r.url}`));
  for (const [path, methods] of Object.entries(openapi.paths)) {
    for (const method of Object.keys(methods))
      assert.ok(all.has(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`), `route tree lacks ${method} ${path}`);
  }
  const fuzzed = new Set(routes.map((r) => `${r.method} ${r.url}`));
  const expected = [
    ...publicPoints.map((k) => `POST /api/v1/collect/${k}`),
    'POST /api/v1/collect/:point',
    'POST /console/sign-in',
    'GET /console/sign-in',
    'GET /privacy',
    'GET /privacy.md',
    'GET /privacy/versions',
    'GET /privacy-center',
    'GET /privacy-center/:right',
    'POST /privacy-center/:right',
    'GET /privacy-center/confirm',
    'POST /privacy-center/confirm',
    'GET /privacy-center/answer',
    'POST /api/v1/requests',
    'GET /healthz',
    'GET /openapi.json',
    'POST /api/v1/consent',
    'GET /api/v1/consent/:id',
    'GET /.well-known/gpc.json',
  ];
  for (const e of expected) assert.ok(fuzzed.has(e), `${e} is not among the public routes fuzzed`);
  assert.ok(!fuzzed.has('POST /api/v1/staff/collect/:point') && !fuzzed.has('GET /console/people'), 'staff routes are not public');
  for (const k of Object.keys(register.collection).filter((k) => !publicPoints.includes(k)))
    assert.ok(!fuzzed.has(`POST /api/v1/collect/${k}`), `${k} is recorded by staff only`);
  const unknown = routes.filter((r) => !fuzzerFor(r)).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(unknown, [], 'public routes without a fuzzer: add generators for them in this file');
});

// ---- valid input is accepted, so a refusal below is the app's verdict on the input, not a broken harness ----------

test('valid submissions built from the register field declarations are accepted with 201, as JSON or as a form', async () => {
  const points = publicPoints.filter((k) => !unsubmittableReason(register, k));
  assert.deepEqual(points, publicPoints, 'every public collection point of the example can be submitted');
  const cases = fc.oneof(...points.map((key) => fc.tuple(fc.constant(key), validSubmission(register, key)!, fc.constantFrom('json', 'nested-json', 'form'))));
  await fc.assert(
    fc.asyncProperty(cases, async ([key, sub, how]) => {
      const before = await rowCounts(t.db);
      const url = `/api/v1/collect/${key}`;
      const body: Body =
        how === 'form'
          ? { kind: 'form', pairs: Object.entries(sub).map(([k, v]) => [k, String(v)] as const) }
          : { kind: 'json', value: how === 'json' ? sub : nested(sub) };
      const res = await inject(encode('POST', url, body));
      assert.equal(res.statusCode, 201, res.body);
      const { recordIds } = res.json() as { recordIds: string[] };
      assert.equal(recordIds.length, expectedRecords(register, key, sub));
      assert.equal((await rowCounts(t.db)).record, before.record + recordIds.length, 'every record is stored');
    }),
    { numRuns: 300 },
  );
});

// ---- malformed input is refused and leaves nothing behind ------------------------------------------------------

/** Bodies for a collection point (or its HTML form): every one breaks at least one rule of the point. */
function malformedSubmissions(method: string, url: string, key: string): fc.Arbitrary<Req> {
  const hasRequired = Object.values(register.collection[key]!.fields).some((f) => f.required);
  assert.ok(hasRequired, `${key} has a required field, so an empty or foreign-keyed body is invalid`);
  const jsonObjects = invalidSubmission(register, key, false).map(objectOf);
  const asJson = fc.tuple(jsonObjects, fc.boolean(), fc.constantFrom<string | null>(...JSON_TYPES, JSON_TYPES[0], JSON_TYPES[0], null));
  const bodies = fc.oneof(
    { weight: 6, arbitrary: asJson.map(([o, flat, type]) => encode(method, url, { kind: 'json', value: flat ? o : (nested(o) ?? o) }, type)) },
    {
      weight: 4,
      arbitrary: invalidSubmission(register, key, true).map((pairs) =>
        encode(method, url, { kind: 'form', pairs: pairs.map(([k, v]) => [k, String(v)] as const) }),
      ),
    },
    { weight: 1, arbitrary: nonObjectJson.map((value) => encode(method, url, { kind: 'json', value })) },
    { weight: 2, arbitrary: anyShapeObject(register, key).map((value) => encode(method, url, { kind: 'json', value })) },
    { weight: 2, arbitrary: brokenJsonText(jsonObjects).map((text) => encode(method, url, { kind: 'text', text, type: 'application/json' })) },
    { weight: 1, arbitrary: garbageForm.map((b) => encode(method, url, b)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.oneof(
            jsonObjects.map((value): Body => ({ kind: 'json', value })),
            garbageForm,
            emptyBodies,
          ),
          fc.constantFrom(...WRONG_TYPES),
        )
        .map(([b, type]) => encode(method, url, b, type)),
    },
    { weight: 1, arbitrary: emptyBodies.map((b) => encode(method, url, b)) },
    { weight: 1, arbitrary: hugeOrDeep.map((b) => encode(method, url, b)) },
  );
  return bodies;
}

/** Sign-in posts that are malformed: bad CSRF pair, blank email or password, wrong types, overlong, not a form. */
function malformedSignIns(url: string): fc.Arbitrary<Req> {
  const token = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
  const email = fc.oneof(emailArb, anyString(40, 1));
  const password = anyString(40, 1);
  const fields = fc.record({ email, password, next: fc.option(anyString(60), { nil: undefined }) });
  const cookie = (v: string | undefined): Record<string, string> => (v === undefined ? {} : { cookie: `custodian_presign=${v}` });
  const clean = (o: Record<string, unknown>) => objectOf(Object.entries(o).filter(([, v]) => v !== undefined));
  // The CSRF check fails: no cookie, a malformed one, or a field that differs from it.
  const badCsrf = fc.oneof(
    fc.tuple(fc.constant(undefined), fc.option(token, { nil: undefined })),
    fc.tuple(
      fc.stringMatching(/^[A-Za-z0-9_=+/.-]{0,60}$/).filter((s) => !/^[A-Za-z0-9_-]{43}$/.test(s)),
      fc.option(anyString(60), { nil: undefined }),
    ),
    fc.tuple(token, fc.option(fc.oneof(token, anyString(60)), { nil: undefined })).filter(([c, f]) => c !== f),
  );
  const csrfFailures = fc.tuple(fields, badCsrf, fc.boolean()).map(([f, [c, field], asForm]) => {
    const o = clean({ ...f, _csrf: field });
    return encode(
      'POST',
      url,
      asForm ? { kind: 'form', pairs: Object.entries(o).map(([k, v]) => [k, String(v)] as const) } : { kind: 'json', value: o },
      undefined,
      cookie(c),
    );
  });
  // A good CSRF pair, but nothing to sign in with.
  const blanks = fc
    .tuple(token, fields, fc.constantFrom('', ' ', '\t\n'), fc.constantFrom('email', 'password', 'both'), fc.boolean())
    .map(([tok, f, blank, which, asForm]) => {
      const o = clean({ ...f, _csrf: tok, ...(which !== 'password' ? { email: blank } : {}), ...(which !== 'email' ? { password: '' } : {}) });
      return encode(
        'POST',
        url,
        asForm ? { kind: 'form', pairs: Object.entries(o).map(([k, v]) => [k, String(v)] as const) } : { kind: 'json', value: o },
        undefined,
        cookie(tok),
      );
    });
  // Schema violations, with or without a good CSRF pair.
  const limits = { email: 320, password: 1024, _csrf: 512, next: 2000 } as const;
  const wrong = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...(Object.keys(limits) as (keyof typeof limits)[])),
        fc.oneof(
          junkScalar.filter((v) => typeof v !== 'string'),
          fc.array(junkScalar, { maxLength: 3 }),
          fc.dictionary(anyString(5), junkScalar),
        ),
      )
      .map(([k, v]) => ({ k, v })),
    fc
      .tuple(fc.constantFrom(...(Object.keys(limits) as (keyof typeof limits)[])), fc.integer({ min: 1, max: 100 }))
      .map(([k, extra]) => ({ k, v: 'x'.repeat(limits[k] + extra) as unknown })),
  );
  const schema = fc.tuple(token, fields, wrong, fc.boolean()).map(([tok, f, w, asForm]) => {
    const o = clean({ ...f, _csrf: tok });
    put(o, w.k, w.v);
    const form = asForm && typeof w.v === 'string';
    return encode(
      'POST',
      url,
      form ? { kind: 'form', pairs: Object.entries(o).map(([k, v]) => [k, String(v)] as const) } : { kind: 'json', value: o },
      undefined,
      cookie(tok),
    );
  });
  return fc.oneof(
    { weight: 3, arbitrary: csrfFailures },
    { weight: 2, arbitrary: blanks },
    { weight: 3, arbitrary: schema },
    { weight: 1, arbitrary: nonObjectJson.filter((v) => v !== null).map((value) => encode('POST', url, { kind: 'json', value })) },
    { weight: 1, arbitrary: brokenJsonText(fields.map(clean)).map((text) => encode('POST', url, { kind: 'text', text, type: 'application/json' })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.oneof(garbageForm, emptyBodies), fc.constantFrom<string | null | undefined>(undefined, ...WRONG_TYPES))
        .map(([b, type]) => encode('POST', url, b, type)),
    },
    { weight: 1, arbitrary: hugeOrDeep.map((b) => encode('POST', url, b)) },
  );
}

/** Points that are not in the register, sent anything at all. */
function unknownPoints(): fc.Arbitrary<Req> {
  const name = anyString(30, 1).filter((s) => !Object.hasOwn(register.collection, decoded(s)) && pct(s).length <= 100);
  const body = fc.oneof(
    nonObjectJson.map((value): Body => ({ kind: 'json', value })),
    fc.dictionary(anyString(10), fc.jsonValue({ maxDepth: 3 })).map((value): Body => ({ kind: 'json', value })),
    garbageForm,
    emptyBodies,
    brokenJsonText(fc.dictionary(anyString(10), junkScalar)).map((text): Body => ({ kind: 'text', text, type: 'application/json' })),
  );
  return fc.tuple(name, body).map(([n, b]) => encode('POST', `/api/v1/collect/${pct(n)}`, b));
}

for (const route of routes) {
  const f = fuzzerFor(route);
  if (!f || f.kind === 'get' || f.kind === 'request-api' || f.kind.startsWith('centre-') || f.kind.startsWith('consent-') || f.kind === 'newsletter') continue;
  test(`${route.method} ${route.url}: ${RUNS} malformed requests are refused with a coded 4xx and store nothing`, async () => {
    if (f.kind === 'collect') await fuzz(malformedSubmissions('POST', route.url, f.point), (_q, res) => assertRefused(res), true);
    else if (f.kind === 'form-page') await fuzz(malformedSubmissions('POST', route.url, f.point), (_q, res) => assertRefused(res, true), true);
    else if (f.kind === 'unknown-point') {
      await fuzz(
        unknownPoints(),
        (_q, res) => {
          assertRefused(res);
          if (res.statusCode === 404) assert.match((res.json() as { error: { code: string } }).error.code, /^(not_found|route_not_found)$/);
        },
        true,
      );
    } else await fuzz(malformedSignIns(route.url), (_q, res) => assertRefused(res), true);
  });
}

// ---- the privacy centre ----------------------------------------------------------------------------------------

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const tokenArb = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
/** A refusal on the privacy centre: the form again (400), a page (404), or, before the page is reached, a coded JSON 4xx. */
function assertCentreRefused(res: LightMyRequestResponse, page: 'form' | 'not-found'): void {
  if (!String(res.headers['content-type'] ?? '').startsWith('text/html') || page === 'form') {
    assertRefused(res, true);
    return;
  }
  assert.doesNotMatch(res.body, STACK, 'the answer shows a stack trace');
  assert.equal(res.statusCode, 404, res.body.slice(0, 300));
  assert.match(res.body, /<h1>/);
}

/** Requests to a right's form that break at least one of its rules: no usable email, a field too long, "for someone else" half filled in. */
function malformedCentreRequests(): fc.Arbitrary<Req> {
  const right = fc.constantFrom(...REQUEST_TYPES);
  const optional = (a: fc.Arbitrary<string>) => fc.option(a, { nil: undefined });
  const others = fc.record({
    name: optional(anyString(30)),
    details: optional(anyString(60)),
    behalf: optional(fc.constantFrom('yes', 'no', '')),
    theirName: optional(anyString(30)),
    relationship: optional(fc.constantFrom('parent', 'solicitor', 'cousin', '')),
    authority: optional(anyString(30)),
  });
  // No '@': never an email address, whatever else it is.
  const noEmail = fc.record({ email: optional(anyString(40).filter((e) => !e.includes('@'))) });
  const longText = (min: number) => fc.integer({ min: min + 1, max: min + 200 }).map((n) => 'x'.repeat(n));
  const good = fc.record({ email: emailArb });
  const oneBroken = fc.oneof(
    fc.record({ name: longText(200) }),
    fc.record({ details: longText(5000) }),
    fc.record({
      behalf: fc.constant('yes'),
      name: fc.constant('Pat Asker'),
      theirName: fc.constantFrom('', ' '),
      relationship: fc.constant('parent'),
      authority: fc.constant('parental responsibility'),
    }),
    fc.record({
      behalf: fc.constant('yes'),
      name: fc.constant('Pat Asker'),
      theirName: fc.constant('Kim'),
      relationship: fc.constantFrom('cousin', ''),
      authority: fc.constant('a letter'),
    }),
    fc.record({
      behalf: fc.constant('yes'),
      name: fc.constant('Pat Asker'),
      theirName: fc.constant('Kim'),
      relationship: fc.constant('carer'),
      authority: fc.constantFrom('', 'ab', 'x'.repeat(501)),
    }),
    fc.record({
      behalf: fc.constant('yes'),
      name: fc.constantFrom('', ' '),
      theirName: fc.constant('Kim'),
      relationship: fc.constant('carer'),
      authority: fc.constant('a letter'),
    }),
  );
  const fields = fc.oneof(
    fc.tuple(noEmail, others).map(([a, b]) => ({ ...b, ...a })),
    fc.tuple(good, others, oneBroken).map(([a, b, c]) => ({ ...b, ...a, ...c })),
  );
  const defined = (o: Record<string, string | undefined>) => Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined);
  const noAt = (b: Body) => b.kind !== 'text' || !String(b.text).includes('@');
  const body: fc.Arbitrary<Body> = fc.oneof(
    { weight: 5, arbitrary: fields.map((o): Body => ({ kind: 'form', pairs: defined(o) })) },
    { weight: 2, arbitrary: fields.map((o): Body => ({ kind: 'json', value: objectOf(defined(o)) })) },
    { weight: 1, arbitrary: nonObjectJson.map((value): Body => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: garbageForm.filter(noAt) },
    { weight: 1, arbitrary: emptyBodies },
    { weight: 1, arbitrary: hugeOrDeep },
  );
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(right, body).map(([r, b]) => encode('POST', `/privacy-center/${r}`, b)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(right, fields, fc.constantFrom(...WRONG_TYPES))
        .map(([r, o, type]) => encode('POST', `/privacy-center/${r}`, { kind: 'form', pairs: defined(o) }, type)),
    },
  );
}

test(`POST /privacy-center/:right: ${RUNS} malformed requests get the form again (or a coded 4xx) and store nothing`, async () => {
  await fuzz(malformedCentreRequests(), (_q, res) => assertCentreRefused(res, 'form'), true);
});

test(`POST /privacy-center/confirm: ${RUNS} tokens nobody was sent get the "link does not work" page (404) and confirm nothing`, async () => {
  const token = fc.oneof(tokenArb, anyString(60), fc.constantFrom('', ' ', 'x'.repeat(44)));
  const body: fc.Arbitrary<Body> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(token, fc.option(anyString(10), { nil: undefined }))
        .map(([v, x]): Body => ({ kind: 'form', pairs: [['token', v], ...(x === undefined ? [] : [['x', x] as const])] })),
    },
    { weight: 2, arbitrary: fc.oneof(token, junkScalar).map((v): Body => ({ kind: 'json', value: { token: v } })) },
    { weight: 1, arbitrary: nonObjectJson.map((value): Body => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: garbageForm },
    { weight: 1, arbitrary: emptyBodies },
    { weight: 1, arbitrary: hugeOrDeep },
  );
  await fuzz(
    body.map((b) => encode('POST', '/privacy-center/confirm', b)),
    (_q, res) => assertCentreRefused(res, 'not-found'),
    true,
  );
});

test(`GET /privacy-center/:right and /privacy-center/confirm: ${RUNS} random paths and query strings, never a 5xx`, async () => {
  const segment = fc.oneof(
    fc.constantFrom(...REQUEST_TYPES),
    anyString(30, 1).filter((s) => s !== '.' && s !== '..'),
  );
  const tokenPairs = fc.array(fc.tuple(fc.constantFrom('token', 'lang', 'x'), fc.oneof(tokenArb, anyString(50))), { maxLength: 4 });
  const pages = fc.oneof(
    fc.tuple(segment, queries).map(([seg, [q]]) => {
      const right = REQUEST_TYPES.find((r) => r === decoded(seg));
      return request({ method: 'GET', url: `/privacy-center/${pct(seg)}?${q}`, headers: {}, expectedStatus: right ? 200 : 404 });
    }),
    tokenPairs.map((pairs) => {
      const tokens = pairs.filter(([k]) => k === 'token').map(([, v]) => v);
      const expectedStatus = tokens.length === 1 && TOKEN.test(tokens[0]!) ? 200 : 404;
      return request({ method: 'GET', url: `/privacy-center/confirm?${pairs.map(([k, v]) => `${k}=${pct(v)}`).join('&')}`, headers: {}, expectedStatus });
    }),
    queries.map(([q]) => request({ method: 'GET', url: `/privacy-center/confirm?${q}`, headers: {} })),
  );
  await fuzz(
    pages,
    (req, res) => {
      if (req.expectedStatus) assert.equal(res.statusCode, req.expectedStatus, `${req.url.slice(0, 200)}: ${res.body.slice(0, 200)}`);
      if (res.statusCode !== 200) assertCentreRefused(res, 'not-found');
    },
    false,
  );
});

test(`POST /api/v1/requests: ${RUNS} malformed requests get a coded 400 and store nothing`, async () => {
  const noAddress = anyString(40).filter((x) => !x.includes('@'));
  const body: fc.Arbitrary<Body> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .record({
          type: fc.oneof(fc.constantFrom(...REQUEST_TYPES), anyString(20), junkScalar),
          email: fc.oneof(noAddress, junkScalar),
          name: fc.option(fc.oneof(anyString(30), junkScalar), { nil: undefined }),
          details: fc.option(fc.oneof(anyString(60), fc.constant('x'.repeat(5001))), { nil: undefined }),
          onBehalf: fc.option(fc.oneof(junkScalar, fc.record({ name: anyString(10), relationship: anyString(10) })), { nil: undefined }),
        })
        .map((value): Body => ({ kind: 'json', value: Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) })),
    },
    { weight: 1, arbitrary: nonObjectJson.map((value): Body => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: garbageForm },
    { weight: 1, arbitrary: emptyBodies },
    { weight: 1, arbitrary: hugeOrDeep },
  );
  await fuzz(
    body.map((b) => encode('POST', '/api/v1/requests', b)),
    (_q, res) => assertRefused(res),
    true,
  );
});

test(`POST /api/v1/consent: ${RUNS} malformed choices (an unknown purpose, a non-boolean, a bad id, any shape) get a coded 4xx and store nothing`, async () => {
  const choosable = new Set(Object.keys(register.purposes));
  const badPurpose = fc.oneof(
    anyString(30, 1).filter((k) => !choosable.has(k)),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'strictly-necessary'),
  );
  const anyId = fc.oneof(fc.uuid(), anyString(140), junkScalar, fc.constant('v'.repeat(20)));
  const body: fc.Arbitrary<Body> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .record({
          visitorId: fc.option(anyId, { nil: undefined }),
          subjectId: fc.option(anyId, { nil: undefined }),
          bad: badPurpose,
          value: fc.oneof(fc.boolean(), junkScalar),
          good: fc.option(fc.dictionary(fc.constantFrom(...choosable), fc.oneof(fc.boolean(), junkScalar)), { nil: undefined }),
          extra: fc.option(fc.tuple(anyString(10, 1), junkScalar), { nil: undefined }),
        })
        .map(({ visitorId, subjectId, bad, value, good, extra }): Body => {
          const purposes = objectOf([...Object.entries(good ?? {}), [bad, value]]);
          const entries: [string, unknown][] = [['purposes', purposes]];
          if (visitorId !== undefined) entries.push(['visitorId', visitorId]);
          if (subjectId !== undefined) entries.push(['subjectId', subjectId]);
          if (extra) entries.push(extra);
          return { kind: 'json', value: objectOf(entries) };
        }),
    },
    { weight: 1, arbitrary: junkScalar.map((v): Body => ({ kind: 'json', value: { visitorId: v, purposes: { 'marketing-consent': true } } })) },
    { weight: 1, arbitrary: nonObjectJson.map((value): Body => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: garbageForm },
    { weight: 1, arbitrary: emptyBodies },
    { weight: 1, arbitrary: hugeOrDeep },
  );
  const gpc = fc.constantFrom<Record<string, string>>({}, { 'sec-gpc': '1' }, { 'sec-gpc': '0' });
  await fuzz(
    fc.tuple(body, gpc).map(([b, h]) => encode('POST', '/api/v1/consent', b, undefined, h)),
    (_q, res) => assertRefused(res),
    true,
  );
});

test(`GET /api/v1/consent/{id} and /receipts/{id}: ${RUNS} ids nobody has get a coded 404 (or 400), never a 5xx`, async () => {
  const id = fc.oneof(
    fc.uuid(),
    anyString(140, 1).filter((s) => s !== '.' && s !== '..'),
  );
  await fuzz(
    fc
      .tuple(fc.constantFrom('/api/v1/consent/', '/api/v1/consent/receipts/'), id, fc.constantFrom('GET', 'OPTIONS'))
      .map(([prefix, i, method]) => request({ method, url: `${prefix}${pct(i)}`, headers: {} })),
    (q, res) => {
      assertRefused(res);
      if (q.method === 'GET') assert.ok(res.statusCode === 404 || res.statusCode === 400, `${res.statusCode}`);
    },
    true,
  );
  const preflight = await inject(request({ method: 'OPTIONS', url: '/api/v1/consent', headers: { origin: 'https://www.example.com' } }));
  assert.equal(preflight.statusCode, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], '*');
});

test(`the newsletter (sign-up, confirm, unsubscribe) and email consent (confirm): ${RUNS} malformed sign-ups and links nobody was sent get a 4xx and change nothing`, async () => {
  const tokenish = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{34}\.[A-Za-z0-9_-]{22}$/), anyString(80));
  const signUp: fc.Arbitrary<Body> = fc.oneof(
    fc
      .record({
        email: fc.oneof(
          anyString(40).filter((x) => !x.includes('@')),
          junkScalar,
        ),
        language: fc.option(fc.oneof(anyString(5), junkScalar), { nil: undefined }),
      })
      .map((value): Body => ({ kind: 'json', value: Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) })),
    nonObjectJson.map((value): Body => ({ kind: 'json', value })),
    garbageForm,
    emptyBodies,
    hugeOrDeep,
  );
  const requests = fc.oneof(
    signUp.map((b) => encode('POST', '/api/v1/newsletter/subscribe', b)),
    fc
      .tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/newsletter/confirm', '/unsubscribe', '/consent/confirm'), tokenish)
      .map(([method, path, token]) =>
        method === 'GET'
          ? request({ method, url: `${path}?token=${pct(token)}`, headers: {} })
          : encode('POST', `${path}?token=${pct(token)}`, {
              kind: 'form',
              pairs: [
                ['token', token],
                ['List-Unsubscribe', 'One-Click'],
              ],
            }),
      ),
  );
  await fuzz(
    requests,
    (_q, res) => {
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `status ${res.statusCode}: ${res.body.slice(0, 200)}`);
      assert.doesNotMatch(res.body, STACK);
    },
    true,
  );
});

test(`GET /privacy-center/answer: ${RUNS} links nobody was sent get the "link does not work" page (404), never a 5xx`, async () => {
  const tokenPairs = fc.array(fc.tuple(fc.constantFrom('token', 'format', 'x'), fc.oneof(tokenArb, anyString(50), fc.constantFrom('html', 'json', 'pdf'))), {
    maxLength: 4,
  });
  await fuzz(
    fc.oneof(
      tokenPairs.map((pairs) => request({ method: 'GET', url: `/privacy-center/answer?${pairs.map(([k, v]) => `${k}=${pct(v)}`).join('&')}`, headers: {} })),
      queries.map(([q]) => request({ method: 'GET', url: `/privacy-center/answer?${q}`, headers: {} })),
    ),
    (_q, res) => {
      if (String(res.headers['content-type'] ?? '').startsWith('text/html')) assertCentreRefused(res, 'not-found');
      else assertRefused(res);
    },
    false,
  );
});

// Text no database column can hold, in every field of every public form, sent both ways: refused, never a 500.
test('U+0000 and lone surrogates in any field are refused with a 4xx on every collection point and hosted form', async () => {
  const before = await rowCounts(t.db);
  const targets = routes
    .map((r) => ({ r, f: fuzzerFor(r) }))
    .filter((x): x is { r: RouteEntry; f: { kind: 'collect' | 'form-page'; point: string } } => x.f?.kind === 'collect' || x.f?.kind === 'form-page');
  let sent = 0;
  for (const { r, f } of targets) {
    for (const name of Object.keys(register.collection[f.point]!.fields)) {
      for (const value of ['\u0000', 'a\u0000b', '\ud800', 'x\udfff']) {
        for (const body of [
          { kind: 'json', value: objectOf([[name, value]]) },
          { kind: 'form', pairs: [[name, value]] },
        ] as Body[]) {
          const req = encode('POST', r.url, body);
          const res = await inject(req);
          assertRefused(res, f.kind === 'form-page');
          sent++;
        }
      }
    }
  }
  assert.ok(sent > 100);
  assertPrototypeClean();
  assert.deepEqual(await rowCounts(t.db), before);
});

// ---- public pages with random query strings -------------------------------------------------------------------

const queryKey = fc.oneof(fc.constantFrom('lang', 'LANG', 'lang[]', 'next', 'x', '__proto__', 'constructor', 'a.b', '', 'lang '), anyString(20));
const queryValue = fc.oneof(
  fc.constantFrom('en', 'de', 'EN', 'fr', '', 'en ', 'de\u0000', '1e308', '-0', 'NaN', '/console', '//evil.example', 'https://evil.example/'),
  anyString(60),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'x'.repeat(n)),
);
const rawQueryChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%&=+;,/?:@$!*()[]'~._-".split(''),
  'lang',
  'en',
  'de',
  '%E0%A4%A',
  '%00',
  '%ZZ',
);
/** [query text, the decoded pairs when the text was built from pairs]. */
const queries: fc.Arbitrary<readonly [string, (readonly [string, string])[] | null]> = fc.oneof(
  fc
    .array(fc.tuple(queryKey, queryValue), { maxLength: 6 })
    .map((pairs) => [pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&'), pairs.map(([k, v]) => [decoded(k), decoded(v)] as const)] as const),
  fc.string({ unit: rawQueryChar, maxLength: 60 }).map((q) => [q, null] as const),
);

for (const route of routes.filter((r) => fuzzerFor(r)?.kind === 'get')) {
  // Query parameters the route documents with a fixed set of values (?lang=en|de): anything else is a 400.
  const enums = (openapi.paths[route.url]?.get?.parameters ?? [])
    .filter((p) => p.in === 'query' && p.schema?.enum)
    .map((p) => ({ name: p.name, values: p.schema!.enum! }));
  const expectedFor = (pairs: (readonly [string, string])[]) =>
    enums.every(({ name, values }) => {
      const given = pairs.filter(([k]) => k === name).map(([, v]) => v);
      return given.length === 0 || (given.length === 1 && values.includes(given[0]!));
    })
      ? 200
      : 400;
  test(`GET ${route.url}: ${RUNS} random query strings never give a 5xx, and are refused only when a documented parameter is wrong`, async () => {
    const requests = queries.map(([q, pairs]) =>
      request({ method: 'GET', url: `${route.url}?${q}`, headers: {}, ...(pairs ? { expectedStatus: expectedFor(pairs) } : {}) }),
    );
    await fuzz(
      requests,
      (req, res) => {
        if (res.statusCode !== 200) {
          assertRefused(res);
          assert.equal(res.statusCode, 400);
          assert.equal((res.json() as { error: { code: string } }).error.code, 'invalid_query');
          assert.ok(enums.length > 0, `${route.url} takes no checked parameter, yet refused ${req.url.slice(0, 200)}`);
        } else assert.ok(String(res.headers['content-type']).length > 0 && res.body.length > 0);
        if (req.expectedStatus) assert.equal(res.statusCode, req.expectedStatus);
      },
      false,
    );
  });
}

test(`${RUNS} requests to paths that do not exist get a coded 404, whatever the method`, async () => {
  const segment = anyString(20, 1)
    .filter((s) => s !== '.' && s !== '..')
    .map(pct); // dot segments would be resolved away
  const paths = fc.tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    fc.array(segment, { minLength: 1, maxLength: 4 }),
    fc.constantFrom('/x-fuzz/', '/api/v1/x-fuzz/', '/privacy/x-fuzz/', '/forms/x-fuzz/'),
  );
  await fuzz(
    paths.map(([method, segs, prefix]) => request({ method, url: `${prefix}${segs.join('/')}`, headers: {} })),
    (_q, res) => {
      assertRefused(res);
      assert.equal(res.statusCode, 404);
    },
    true,
  );
});

test('malformed URLs (broken percent-escapes, over-long path parameters) get the coded error shape', async () => {
  const bad = fc.oneof(
    fc
      .tuple(fc.constantFrom('/privacy/', '/forms/', '/api/v1/collect/', '/healthz/', '/'), fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C0%AF', '%ED%A0%80'))
      .map(([a, b]) => `${a}${b}`),
    fc.integer({ min: 101, max: 400 }).map((n) => `/api/v1/collect/${'x'.repeat(n)}`),
  );
  await fc.assert(
    fc.asyncProperty(bad, async (url) => assertRefused(await inject(request({ method: 'POST', url, headers: {} })))),
    { numRuns: 200, endOnFailure: true },
  );
});
