// For crypto's tests: subjects exist only as rows here (subjects/ owns the real way to make them).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../db/connect.ts';

export async function insertTestSubjects(db: Db, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = ids.slice(i, i + 1000).map((id) => sql`(${id}::uuid, 'person', now())`);
    await sql`INSERT INTO subject (id, kind, created_at) VALUES ${sql.join(rows)}`.execute(db.kysely);
  }
  return ids;
}
