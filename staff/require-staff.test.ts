import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserFamily, truncateIp } from '../core/client-info.ts';
import { safeNext } from './require-staff.ts';
import { can, rolesAdmitted } from './roles.ts';

describe('safeNext (where to go after sign-in)', () => {
  test('keeps console paths with their query, refuses everything that could leave the site', () => {
    assert.equal(safeNext('/console/people?q=smith'), '/console/people?q=smith');
    assert.equal(safeNext('/console'), '/console');
    for (const bad of [
      'https://evil.example/console',
      '//evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '/%0d%0aLocation:x',
      'javascript:alert(1)',
      '/console\n',
      ' /console',
      '/privacy',
      '/consolex',
      '',
      42,
      undefined,
    ]) {
      assert.equal(safeNext(bad), undefined, String(bad));
    }
    assert.equal(safeNext('/console/sign-in?next=/console'), '/console', 'never back to the sign-in page');
    assert.equal(safeNext('/console/../privacy'), undefined, 'dot segments are resolved before the check');
  });
});

describe('roles', () => {
  test('owner ⊇ dpo ⊇ staff; auditor stands apart', () => {
    assert.deepEqual(rolesAdmitted(['staff']), ['owner', 'dpo', 'staff']);
    assert.deepEqual(rolesAdmitted(['dpo']), ['owner', 'dpo']);
    assert.deepEqual(rolesAdmitted(['auditor']), ['auditor']);
    assert.deepEqual(rolesAdmitted(undefined), ['owner', 'dpo', 'staff', 'auditor']);
    assert.equal(can('dpo', 'records.read-sealed'), true);
    assert.equal(can('staff', 'records.read-sealed'), false);
    assert.equal(can('auditor', 'audit.read'), true);
    assert.equal(can('auditor', 'records.write'), false);
    assert.equal(can('dpo', 'users.manage'), false);
  });
});

describe('client info kept with a session', () => {
  test('addresses are truncated, browsers reduced to a family', () => {
    // Sessions keep the same truncated address and browser family as the access log (core/client-info.ts).
    assert.equal(truncateIp('203.0.113.77'), '203.0.113.0/24');
    assert.equal(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348'), '2001:db8:85a3::/48');
    assert.equal(truncateIp('nonsense'), null);
    assert.equal(browserFamily('Mozilla/5.0 … Edg/126.0'), 'Edge');
  });
});
