// Marked statements are prepared once per PostgreSQL connection (named by their text), still take their values as
// parameters, and run as any other on PGlite.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { engineUnderTest, openTestDb } from '../test/helpers/test-db.ts';
import type { Db } from './connect.ts';
import { prepared } from './prepared.ts';

let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

const square = (n: number) => prepared(sql<{ n: number }>`SELECT (${n}::int * ${n}::int) AS n`);

test('a marked statement answers with its own values each time', async () => {
  for (const n of [2, 3, 12]) assert.equal((await square(n).execute(db.kysely)).rows[0]!.n, n * n);
  // In a transaction too (the collection batch runs in one).
  await db.kysely.transaction().execute(async (trx) => {
    assert.equal((await square(7).execute(trx)).rows[0]!.n, 49);
  });
});

test('on PostgreSQL it is a named prepared statement of that connection, one per distinct text', { skip: engineUnderTest !== 'postgres' }, async () => {
  await db.kysely.connection().execute(async (conn) => {
    await square(4).execute(conn);
    await square(5).execute(conn);
    await prepared(sql<{ s: string }>`SELECT ${'x'}::text || 'y' AS s`).execute(conn);
    const { rows } = await sql<{ name: string; statement: string }>`
      SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'custodian\\_%'`.execute(conn);
    const ours = rows.filter((r) => r.statement.includes('::int * $2::int') || r.statement.includes("|| 'y'"));
    assert.equal(ours.length, 2, JSON.stringify(rows));
    assert.notEqual(ours[0]!.name, ours[1]!.name);
    // Unmarked statements stay unnamed.
    await sql`SELECT 1 AS unmarked`.execute(conn);
    const after = await sql<{ n: string }>`SELECT count(*)::text AS n FROM pg_prepared_statements WHERE statement LIKE '%unmarked%'`.execute(conn);
    assert.equal(after.rows[0]!.n, '0');
  });
});
