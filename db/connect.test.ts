// The connection pool on PostgreSQL outlives its connections: a server that drops idle connections (a restart, an
// administrator ending sessions) costs a reconnect, not the process.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Db } from './connect.ts';
import { engineUnderTest, openTestDb } from '../test/helpers/test-db.ts';

let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

test('idle connections ended by the server are replaced, and the process carries on', {
  skip: engineUnderTest !== 'postgres' && 'PostgreSQL only: PGlite has no connections',
}, async () => {
  await Promise.all(Array.from({ length: 3 }, () => sql`SELECT pg_sleep(0.05)`.execute(db.kysely)));
  const mine = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db.kysely);
  const killer = await openTestDb();
  try {
    const { rows } = await sql<{ n: number }>`
      SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'idle' AND pid <> pg_backend_pid()
        AND pid = ANY(${[mine.rows[0]!.pid]}::int[])`.execute(killer.kysely);
    assert.equal(rows[0]!.n, 1, 'one idle connection of the pool was ended');
  } finally {
    await killer.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 200)); // the pool hears of it
  const again = await sql<{ ok: number }>`SELECT 1 AS ok`.execute(db.kysely);
  assert.equal(again.rows[0]!.ok, 1);
});
