import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { CustodianError } from '../core/errors.ts';
import { hashPassword } from './password-hash.ts';
import { Browser, GOOD_PASSWORD, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { failingAuditor } from '../test/helpers/test-keyring.ts';
import { staffUsers } from './users-service.ts';

let t: TestApp;
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: T0 });
});
after(async () => t.close());

const hashOf = async (email: string) =>
  (await t.db.kysely.selectFrom('staff_user').select('password_hash').where('email', '=', email).executeTakeFirstOrThrow()).password_hash;

describe('staff accounts', () => {
  test('passwords are stored only as argon2id PHC strings', async () => {
    const { oneTimePassword } = await t.users.create({ email: 'Store@Example.test', role: 'staff' }, 'system:cli');
    await t.users.create({ email: 'chosen@example.test', role: 'dpo', password: GOOD_PASSWORD }, 'system:cli');
    assert.ok(oneTimePassword);
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM staff_user`.execute(t.db.kysely);
    for (const row of rows) {
      assert.match(String(row.password_hash), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      const everything = JSON.stringify(row);
      assert.ok(!everything.includes(oneTimePassword) && !everything.includes(GOOD_PASSWORD), 'no plain password in any column');
    }
    assert.deepEqual(
      (await t.users.list()).map((u) => [u.email, u.role, u.mustChangePassword]),
      [
        ['chosen@example.test', 'dpo', false],
        ['store@example.test', 'staff', true],
      ],
    );
  });

  test('refuses a duplicate email, a weak password and a non-address', async () => {
    await assert.rejects(t.users.create({ email: 'STORE@example.test', role: 'staff' }, 'system:cli'), (e: CustodianError) => e.code === 'conflict');
    await assert.rejects(
      t.users.create({ email: 'weak@example.test', role: 'staff', password: 'password1234' }, 'system:cli'),
      (e: CustodianError) => e.code === 'password_rejected',
    );
    await assert.rejects(t.users.create({ email: 'nobody', role: 'staff' }, 'system:cli'), (e: CustodianError) => e.code === 'bad_request');
  });

  test('role changes and disabling are audited; the last active owner cannot be demoted or disabled', async () => {
    await t.users.create({ email: 'own1@example.test', role: 'owner', password: GOOD_PASSWORD }, 'system:cli');
    await assert.rejects(t.users.changeRole('own1@example.test', 'dpo', 'system:cli'), (e: CustodianError) => e.code === 'conflict');
    await assert.rejects(t.users.disable('own1@example.test', 'system:cli'), (e: CustodianError) => e.code === 'conflict');
    await t.users.changeRole('chosen@example.test', 'owner', 'system:cli');
    const demoted = await t.users.changeRole('own1@example.test', 'auditor', 'staff:someone');
    assert.equal(demoted.role, 'auditor');
    const disabled = await t.users.disable('store@example.test', 'system:cli');
    assert.ok(disabled.disabledAt);
    await assert.rejects(t.users.changeRole('missing@example.test', 'staff', 'system:cli'), (e: CustodianError) => e.code === 'not_found');
    const events = await t.audits();
    const roleChange = events.find((e) => e.action === 'staff.role-change' && e.actor === 'staff:someone');
    assert.deepEqual(roleChange?.detail, { userId: demoted.id, from: 'owner', to: 'auditor' });
    assert.ok(events.some((e) => e.action === 'staff.disable' && e.detail?.userId === disabled.id));
  });

  test('a change whose audit event fails is not made at all (same transaction)', async () => {
    const failing = staffUsers({ db: t.db, clock: t.clock, auditor: failingAuditor(t.clock) });
    await assert.rejects(failing.create({ email: 'ghost@example.test', role: 'staff', password: GOOD_PASSWORD }, 'system:cli'), /audit store down/);
    assert.equal(
      (await t.users.list()).some((u) => u.email === 'ghost@example.test'),
      false,
    );
    await t.users.create({ email: 'solid@example.test', role: 'staff', password: GOOD_PASSWORD }, 'system:cli');
    await assert.rejects(failing.changeRole('solid@example.test', 'dpo', 'system:cli'), /audit store down/);
    assert.equal((await t.users.list()).find((u) => u.email === 'solid@example.test')?.role, 'staff');
    const b = new Browser(t.app);
    await b.request({ url: '/console/sign-in' });
    await assert.rejects(
      failing.signIn({ email: 'solid@example.test', password: GOOD_PASSWORD, origin: { ip: '192.0.2.1', userAgent: undefined } }),
      /audit store down/,
    );
    const { rows } = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM staff_session s JOIN staff_user u ON u.id = s.user_id WHERE u.email = 'solid@example.test'`.execute(t.db.kysely);
    assert.equal(Number(rows[0]?.n), 0, 'no session without its audit event');
  });

  test('a password hashed with older parameters is rehashed at the next sign-in', async () => {
    await t.users.create({ email: 'old@example.test', role: 'staff', password: GOOD_PASSWORD }, 'system:cli');
    const old = await hashPassword(GOOD_PASSWORD, { m: 4096, t: 3, p: 1 });
    await t.db.kysely.updateTable('staff_user').set({ password_hash: old }).where('email', '=', 'old@example.test').execute();
    assert.equal((await new Browser(t.app).signIn('old@example.test', GOOD_PASSWORD)).statusCode, 303);
    const now = await hashOf('old@example.test');
    assert.notEqual(now, old);
    assert.match(now, /m=19456,t=2,p=1/);
    assert.equal((await new Browser(t.app).signIn('old@example.test', GOOD_PASSWORD)).statusCode, 303, 'the new hash verifies');
  });
});
