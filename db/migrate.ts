// Forward-only migrations: plain .sql files applied once each, in name order.
// A lock keeps two processes from migrating at the same time; an applied file that changed is refused.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CustodianError } from '../core/errors.ts';
import type { Db } from './connect.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK_KEY = 7_311_021; // arbitrary, constant: the advisory lock all Custodian processes agree on

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((name) => {
      const text = readFileSync(`${dir}/${name}`, 'utf8');
      return { name, sql: text, checksum: createHash('sha256').update(text).digest('hex') };
    });
}

/**
 * Applies pending migrations, all in one transaction; returns the names applied now. With nothing pending it changes
 * nothing and needs no right to (the service's least-privilege role starts this way; see roles.ts).
 */
export async function migrate(db: Db, migrations = listMigrations()): Promise<string[]> {
  if (await upToDate(db, migrations)) return [];
  return db.script(async (run) => {
    await run(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
    await run(`CREATE TABLE IF NOT EXISTS custodian_migration (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = (await run('SELECT name, checksum FROM custodian_migration')) as { name: string; checksum: string }[];
    const byName = new Map(applied.map((r) => [r.name, r.checksum]));
    const known = new Set(migrations.map((m) => m.name));
    for (const name of byName.keys()) {
      if (!known.has(name)) {
        throw new CustodianError(
          'conflict',
          `the database has migration ${name}, which this version of Custodian does not know: it was made by a newer version`,
        );
      }
    }
    const done: string[] = [];
    for (const m of migrations) {
      const had = byName.get(m.name);
      if (had !== undefined) {
        if (had !== m.checksum)
          throw new CustodianError('conflict', `migration ${m.name} was changed after it was applied; migrations are forward-only: add a new file instead`);
        continue;
      }
      await run(m.sql);
      await run(`INSERT INTO custodian_migration (name, checksum) VALUES (${literal(m.name)}, ${literal(m.checksum)})`);
      done.push(m.name);
    }
    return done;
  });
}

async function upToDate(db: Db, migrations: readonly Migration[]): Promise<boolean> {
  return db.script(async (run) => {
    const [exists] = await run(`SELECT to_regclass('custodian_migration') IS NOT NULL AS ok`);
    if (exists?.ok !== true) return false;
    const applied = (await run('SELECT name, checksum FROM custodian_migration')) as { name: string; checksum: string }[];
    const byName = new Map(applied.map((r) => [r.name, r.checksum]));
    return applied.length === migrations.length && migrations.every((m) => byName.get(m.name) === m.checksum);
  });
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
