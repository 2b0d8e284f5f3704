// Server logs are copied, shipped and kept far longer than the data they describe, so they must hold no personal
// data at all. Canary values go into every field a person can send (names, emails, phones, dates, clinical text),
// through accepted and refused submissions, the hosted forms, staff sign-in, unknown URLs and a server error; then
// every byte the logger wrote is searched for each canary, as sent and as the app normalises it (lower-cased email,
// E.164 phone, upper-cased references). The log is also checked to hold one line per request, so an empty or
// silenced log cannot pass. Last, the real CLI server is started and its stdout and stderr are searched the same way.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { Register } from '../register/load-register.ts';
import { GOOD_PASSWORD } from './helpers/staff-client.ts';
import { validSubmission, type Submission } from './helpers/submission-arbitraries.ts';
import { exampleRegister, testApp } from './helpers/test-app.ts';
import { PUBLIC_CHANNELS } from '../subjects/collect/collect-routes.ts';

const EXAMPLE = 'image-diagnostic-technology';
const ROOT = new URL('..', import.meta.url).pathname;

/** Every planted value, with the spellings the app may turn it into. */
class Canaries {
  readonly #variants = new Set<string>();

  /** A unique text value: `<label>-Canary-<hex>`. */
  text(label: string): string {
    return this.#add(`${label}-Canary-${randomBytes(6).toString('hex')}`);
  }

  email(): string {
    return this.#add(`Email.Canary.${randomBytes(6).toString('hex')}@Example.test`);
  }

  /** A UK number from a range nobody holds, written nationally; the app stores it as E.164. */
  phone(): string {
    const n = String(randomInt(0, 1000)).padStart(3, '0');
    const national = `020 7946 0${n}`;
    for (const v of [national, `+442079460${n}`, `2079460${n}`]) this.#variants.add(v);
    return national;
  }

  date(): string {
    const d = new Date(Date.UTC(randomInt(1930, 1990), randomInt(0, 12), randomInt(1, 29)));
    return this.#add(d.toISOString().slice(0, 10));
  }

  reference(): string {
    return this.#add(`REF${randomBytes(6).toString('hex')}`);
  }

  postcode(): string {
    return this.#add(`PC${randomBytes(4).toString('hex').toUpperCase()}`);
  }

  #add(value: string): string {
    for (const v of [value, value.toLowerCase(), value.toUpperCase(), value.match(/[0-9a-f]{8,}/i)?.[0]]) if (v) this.#variants.add(v);
    return value;
  }

  /** The canaries (in any spelling) found in `text`. */
  foundIn(text: string): string[] {
    return [...this.#variants].filter((v) => text.includes(v));
  }

  get size(): number {
    return this.#variants.size;
  }
}

/** A valid submission of the point with a canary in every field that can hold one. */
function canarySubmission(register: Register, key: string, c: Canaries): Submission {
  const sub = { ...fc.sample(validSubmission(register, key, { allOptional: true })!, { numRuns: 1 })[0]! };
  for (const [name, f] of Object.entries(register.collection[key]!.fields)) {
    if (f.consent) continue;
    if (f.identifier === 'email' || f.type === 'email') sub[name] = c.email();
    else if (f.identifier === 'phone' || f.type === 'phone') sub[name] = c.phone();
    else if (f.identifier) sub[name] = c.reference();
    else if (f.type === 'date') sub[name] = c.date();
    else if (f.type === 'postcode') sub[name] = c.postcode();
    else if (f.type === 'url') sub[name] = `https://example.org/${c.text('Url')}`;
    else if (f.type === 'text' || f.type === 'long-text') sub[name] = c.text(name.replace(/[^a-z]/gi, '')) + (f.type === 'long-text' ? '\nsecond line' : '');
  }
  return sub;
}

function logCollector(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

interface LogLine {
  readonly msg?: string;
  readonly method?: string;
  readonly route?: string;
  readonly status?: number;
  readonly [key: string]: unknown;
}

test('the service log holds one line per request and no personal value, whatever was sent', async () => {
  const log = logCollector();
  const t = await testApp(EXAMPLE, { logStream: log.stream });
  const c = new Canaries();
  const sent: { method: string; route: string; status: number }[] = [];
  const send = async (o: InjectOptions & { method: string; url: string }, route: string): Promise<LightMyRequestResponse> => {
    const res = await t.app.inject(o);
    sent.push({ method: o.method, route, status: res.statusCode });
    return res;
  };
  try {
    const { register } = t;
    for (const key of Object.keys(register.collection).filter((k) => PUBLIC_CHANNELS.has(register.collection[k]!.channel))) {
      const route = `/api/v1/collect/${key}`;
      // Accepted, as JSON and as a form.
      assert.equal((await send({ method: 'POST', url: route, payload: canarySubmission(register, key, c) }, route)).statusCode, 201);
      const form = new URLSearchParams(Object.entries(canarySubmission(register, key, c)).map(([k, v]): [string, string] => [k, String(v)]));
      assert.equal(
        (await send({ method: 'POST', url: route, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() }, route))
          .statusCode,
        201,
      );
      // Refused: an undeclared field, an invalid value, broken JSON, a body over the limit, a wrong content type.
      const refused = { ...canarySubmission(register, key, c), [c.text('Undeclared')]: c.text('UndeclaredValue') };
      for (const [name, f] of Object.entries(register.collection[key]!.fields)) if (f.type === 'email' || f.type === 'date') refused[name] = c.text('Invalid');
      assert.equal((await send({ method: 'POST', url: route, payload: refused }, route)).statusCode, 400);
      assert.equal(
        (await send({ method: 'POST', url: route, headers: { 'content-type': 'application/json' }, payload: `{"name": "${c.text('BrokenJson')}"` }, route))
          .statusCode,
        400,
      );
      assert.equal(
        (
          await send(
            {
              method: 'POST',
              url: route,
              headers: { 'content-type': 'application/json' },
              payload: JSON.stringify({ name: c.text('Huge'), pad: 'x'.repeat(300_000) }),
            },
            route,
          )
        ).statusCode,
        413,
      );
      assert.equal(
        (await send({ method: 'POST', url: route, headers: { 'content-type': 'application/xml' }, payload: `<name>${c.text('Xml')}</name>` }, route))
          .statusCode,
        415,
      );
      // The hosted form, where there is one: refused (the form comes back) and accepted (redirect).
      if (t.app.hasRoute({ method: 'POST', url: `/forms/${key}` })) {
        const page = `/forms/${key}`;
        const bad = new URLSearchParams(Object.entries(refused).map(([k, v]): [string, string] => [k, String(v)]));
        assert.equal(
          (await send({ method: 'POST', url: page, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: bad.toString() }, page))
            .statusCode,
          400,
        );
        const good = new URLSearchParams(Object.entries(canarySubmission(register, key, c)).map(([k, v]): [string, string] => [k, String(v)]));
        assert.equal(
          (await send({ method: 'POST', url: page, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: good.toString() }, page))
            .statusCode,
          303,
        );
      }
    }

    // Staff sign-in: a real account whose email is a canary, a wrong password, an unknown account, then success.
    const staffEmail = c.email();
    await t.users.create({ email: staffEmail, role: 'staff', password: GOOD_PASSWORD }, 'system:test');
    const signIn = async (email: string, password: string) => {
      const token = randomBytes(32).toString('base64url');
      const form = new URLSearchParams({ email, password, _csrf: token, next: `/console/people?q=${c.text('Next')}` });
      return send(
        {
          method: 'POST',
          url: '/console/sign-in',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `custodian_presign=${token}`, accept: 'application/json' },
          payload: form.toString(),
        },
        '/console/sign-in',
      );
    };
    assert.equal((await signIn(staffEmail, c.text('WrongPassword'))).statusCode, 401);
    assert.equal((await signIn(c.email(), c.text('WrongPassword'))).statusCode, 401);
    assert.equal((await signIn(staffEmail.toUpperCase(), GOOD_PASSWORD)).statusCode, 303);

    // Unknown addresses and bad query strings: the URL, path and query, is personal data too.
    const q = `email=${encodeURIComponent(c.email())}&name=${c.text('Query')}`;
    assert.equal((await send({ method: 'GET', url: `/${c.text('Path')}/${encodeURIComponent(c.email())}?${q}` }, '(unmatched)')).statusCode, 404);
    assert.equal(
      (await send({ method: 'POST', url: `/api/v1/collect/${c.text('Point')}?${q}`, payload: { name: c.text('UnknownPoint') } }, '/api/v1/collect/:point'))
        .statusCode,
      404,
    );
    assert.equal((await send({ method: 'GET', url: `/privacy?lang=${c.text('Lang')}&${q}` }, '/privacy')).statusCode, 400);
    assert.equal((await send({ method: 'GET', url: `/privacy?${q}` }, '/privacy')).statusCode, 200);

    // A server error in the middle of storing a submission: logged (with its stack), still without the values.
    await sql`DROP TABLE record CASCADE`.execute(t.db.kysely);
    const failed = await send(
      { method: 'POST', url: '/api/v1/collect/enquiry-form', payload: canarySubmission(register, 'enquiry-form', c) },
      '/api/v1/collect/enquiry-form',
    );
    assert.equal(failed.statusCode, 500);
  } finally {
    await t.close();
  }

  const lines = log
    .text()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
  const requests = lines.filter((l) => l.msg === 'request').map((l) => ({ method: l.method, route: l.route, status: l.status }));
  assert.deepEqual(requests, sent, 'one log line per request, with the route pattern and the status');
  assert.ok(
    lines.some((l) => l.msg === 'staff sign-in' && l.outcome === 'failed'),
    'failed sign-ins are logged',
  );
  assert.ok(
    lines.some((l) => l.msg === 'request failed' && l.code === 'internal' && typeof l.stack === 'string'),
    'the server error is logged',
  );
  assert.ok(c.size > 50, 'canaries were planted');
  assert.deepEqual(c.foundIn(log.text()), [], 'personal values reached the log');
});

test('the real server (custodian serve) writes no personal value to stdout or stderr', { timeout: 90_000 }, async () => {
  const register = exampleRegister(EXAMPLE);
  const dir = mkdtempSync(join(tmpdir(), 'custodian-logs-'));
  // Its own embedded database and key file, whatever engine the rest of the suite runs on.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of [
    'DATABASE_URL',
    'CUSTODIAN_MASTER_KEY',
    'CUSTODIAN_DATA',
    'CUSTODIAN_REGISTER',
    'CUSTODIAN_HTTPS',
    'CUSTODIAN_OWNER_EMAIL',
    'PORT',
    'HOST',
    'LOG_LEVEL',
    'NODE_TEST_CONTEXT',
  ])
    delete env[k];
  const child = spawn(process.execPath, ['cli/main.ts', 'serve', '--register', `examples/${EXAMPLE}/register.yaml`, '--data', dir, '--port', '0'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const c = new Canaries();
  let requests = 0;
  let code: number | null = null;
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 60_000);
      const look = () => {
        const m = /Custodian is serving .* at (http:\/\/127\.0\.0\.1:\d+) /.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', look);
      void exited.then(() => reject(new Error(`the server exited:\n${output}`)));
    });
    const post = async (path: string, body: string, type = 'application/json', headers: Record<string, string> = {}) => {
      requests++;
      return (
        await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type, accept: 'application/json', ...headers }, body, redirect: 'manual' })
      ).status;
    };
    for (const key of Object.keys(register.collection).filter((k) => PUBLIC_CHANNELS.has(register.collection[k]!.channel))) {
      assert.equal(await post(`/api/v1/collect/${key}`, JSON.stringify(canarySubmission(register, key, c))), 201);
      assert.equal(
        await post(`/api/v1/collect/${key}`, JSON.stringify({ ...canarySubmission(register, key, c), [c.text('Undeclared')]: c.text('Value') })),
        400,
      );
    }
    const token = randomBytes(32).toString('base64url');
    assert.equal(
      await post(
        '/console/sign-in',
        new URLSearchParams({ email: c.email(), password: c.text('Password'), _csrf: token }).toString(),
        'application/x-www-form-urlencoded',
        { cookie: `custodian_presign=${token}` },
      ),
      401,
    );
    requests++;
    assert.equal((await fetch(`${base}/${c.text('Path')}?email=${encodeURIComponent(c.email())}`)).status, 404);
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    code = await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(code, 0, `the server did not stop cleanly on SIGTERM:\n${output.slice(-2000)}`);
  const logged = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  assert.equal(logged.filter((l) => l.msg === 'request').length, requests, `one log line per request:\n${output.slice(-2000)}`);
  assert.deepEqual(c.foundIn(output), [], 'personal values reached the server output');
});
