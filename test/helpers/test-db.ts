// A fresh, migrated database for one test file: PGlite in memory by default, or a new schema on the
// PostgreSQL server named by DATABASE_URL (dropped again on close), so the same tests run on both engines.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { connect, type Db } from '../../db/connect.ts';
import { migrate } from '../../db/migrate.ts';

export async function openTestDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await connect({ dataDir: 'memory://' });
    await migrate(db);
    return db;
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await connect({ url, schema, poolSize: 4 });
  await migrate(db);
  return {
    ...db,
    close: async () => {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db.kysely);
      await db.close();
    },
  };
}

export const engineUnderTest = process.env.DATABASE_URL ? 'postgres' : 'pglite';
