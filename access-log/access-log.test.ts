// The access log (seed 002's "server log files"): one line per request with the route pattern, status and
// duration; the truncated IP and browser family only where the register declares the purpose; never the query
// string or the body; kept for that purpose's period.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testApp } from '../test/helpers/test-app.ts';
import { purgeAccessLog } from './access-log.ts';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';

test('with an access-log purpose: route pattern, status, truncated IP and browser family, nothing else', async () => {
  const t = await testApp('image-information-systems');
  await t.app.inject({ url: '/privacy?lang=de&email=someone@example.com', remoteAddress: '203.0.113.77', headers: { 'user-agent': CHROME } });
  await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/contact-form',
    payload: { name: 'Leak Test', email: 'leak@example.com' },
    remoteAddress: '2001:db8:abcd:12::1',
  });
  await t.app.close(); // flushes the buffered lines
  const rows = await t.db.kysely.selectFrom('access_log').selectAll().orderBy('at').execute();
  await t.db.close();
  assert.equal(rows.length, 2);
  assert.deepEqual(
    rows.map((r) => [r.method, r.route, r.status, r.ip_prefix, r.browser]),
    [
      ['GET', '/privacy', 200, '203.0.113.0/24', 'Chrome'],
      ['POST', '/api/v1/collect/contact-form', 400, '2001:db8:abcd::/48', 'other'],
    ],
  );
  assert.ok(rows.every((r) => r.duration_ms >= 0));
  assert.doesNotMatch(JSON.stringify(rows), /someone@example|leak@example|Leak Test|lang=de/);
});

test('without an access-log purpose no IP or browser is kept; old lines are purged after the period', async () => {
  const t = await testApp('image-diagnostic-technology');
  await t.app.inject({ url: '/healthz', remoteAddress: '198.51.100.23', headers: { 'user-agent': CHROME } });
  await t.app.close();
  const [row] = await t.db.kysely.selectFrom('access_log').selectAll().execute();
  assert.equal(row?.ip_prefix, null);
  assert.equal(row?.browser, null);
  // No purpose declares the period, so the default of 30 days applies.
  t.clock.advance(29 * 86_400_000);
  assert.equal(await purgeAccessLog(t.ctx), 0);
  t.clock.advance(2 * 86_400_000);
  assert.equal(await purgeAccessLog(t.ctx), 1);
  const purges = (await t.audits()).filter((e) => e.action === 'access-log.purge');
  assert.deepEqual(
    purges.map((e) => [e.actor, e.detail.count]),
    [['system:purge-access-log', 1]],
    'the purge is audited, an empty one is not',
  );
  await t.db.close();
});
