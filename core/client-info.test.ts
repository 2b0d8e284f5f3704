import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserFamily, truncateIp } from './client-info.ts';

test('IPv4 addresses are cut to their /24', () => {
  assert.equal(truncateIp('203.0.113.77'), '203.0.113.0/24');
  assert.equal(truncateIp('::ffff:198.51.100.9'), '198.51.100.0/24');
});

test('IPv6 addresses are cut to their /48', () => {
  assert.equal(truncateIp('2001:db8:abcd:12:34::1'), '2001:db8:abcd::/48');
  assert.equal(truncateIp('2001:db8::1'), '2001:db8:0::/48');
  assert.equal(truncateIp('::1'), '0:0:0::/48');
});

test('anything that is not an IP is dropped', () => {
  assert.equal(truncateIp('not-an-ip'), null);
  assert.equal(truncateIp(undefined), null);
});

test('only the browser family is kept', () => {
  assert.equal(browserFamily('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0'), 'Edge');
  assert.equal(browserFamily('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36'), 'Chrome');
  assert.equal(browserFamily('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15'), 'Safari');
  assert.equal(browserFamily('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox');
  assert.equal(browserFamily('curl/8.5.0'), 'bot-or-tool');
  assert.equal(browserFamily(undefined), null);
});
