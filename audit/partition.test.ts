import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { AUDIT_SHARDS, auditPartition } from './partition.ts';

test('the partition is the UTC month and a shard that is stable for a subject, whatever the case of its id', () => {
  const id = '3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f';
  const p = auditPartition(new Date('2025-12-31T23:59:59.999Z'), id, 'staff:1');
  assert.match(p, /^2025-12\/\d{2}$/);
  assert.equal(auditPartition(new Date('2025-12-01T00:00:00Z'), id.toUpperCase(), 'staff:2'), p);
  assert.equal(auditPartition(new Date('2025-12-31T20:00:00-05:00'), id, 'staff:1').slice(0, 8), '2026-01/');
  // Pinned: a shard function that changed would split a subject's events of one month over two chains.
  assert.equal(p, '2025-12/13');
});

test('subjects spread over all shards; events without a subject are spread by actor', () => {
  const at = new Date('2025-03-03T00:00:00Z');
  const shards = new Set(Array.from({ length: 2000 }, () => auditPartition(at, randomUUID(), 'staff:1')));
  assert.equal(shards.size, AUDIT_SHARDS);
  const bySignIn = new Set(Array.from({ length: 200 }, (_, i) => auditPartition(at, null, `staff:${i}`)));
  assert.ok(bySignIn.size > 1);
  assert.equal(auditPartition(at, null, 'staff:7'), auditPartition(at, null, 'staff:7'));
});
