// One way to reach the database: PGlite in a data folder (embedded default) or PostgreSQL via DATABASE_URL.
// Both speak the same SQL; everything above this file sees only Kysely and `Db`.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { CustodianError } from '../core/errors.ts';
import { lockFolder } from './folder-lock.ts';
import { preparesMarked } from './prepared.ts';
import type { Tables } from './tables.ts';

type Engine = 'pglite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Tables>;
  readonly engine: Engine;
  /** Where the data lives, for messages: a folder or the server's host/database (never the password). */
  readonly location: string;
  /** The embedded engine itself, for libraries that speak to it directly (pg-boss); absent on PostgreSQL. */
  readonly pglite?: PGlite;
  /** The PostgreSQL connection string and schema, for libraries that open their own pool; absent on PGlite. */
  readonly postgres?: { readonly url: string; readonly schema: string | undefined };
  /**
   * PostgreSQL only: one pooled connection for work Kysely cannot express (COPY streams). `fn` may mark the
   * connection broken (an abandoned COPY), and it is then closed instead of returned to the pool.
   */
  readonly withPgClient?: <T>(fn: (client: pg.PoolClient, broken: () => void) => Promise<T>) => Promise<T>;
  /**
   * Runs `fn` in one transaction with a runner for multi-statement SQL text without parameters (migrations,
   * maintenance). Kysely's drivers send one statement per call; scripts need the simple protocol.
   */
  script<T>(fn: (run: ScriptRunner) => Promise<T>): Promise<T>;
  /** Whether the database answers a trivial query now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

function pinger(kysely: Kysely<Tables>): () => Promise<boolean> {
  return () =>
    sql`SELECT 1`.execute(kysely).then(
      () => true,
      () => false,
    );
}

type ScriptRunner = (text: string) => Promise<Record<string, unknown>[]>;

export interface ConnectOptions {
  /** PostgreSQL connection string; when set, the data folder is not used. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` keeps everything in memory (tests). */
  dataDir?: string | undefined;
  /** PostgreSQL schema to use (tests get a fresh one each); created if absent. */
  schema?: string | undefined;
  /** Pool size for PostgreSQL. */
  poolSize?: number | undefined;
  /** Who opens an embedded folder (`custodian serve`...): named to anyone refused while it holds the folder. */
  lockAs?: string | undefined;
}

// A calendar date (a request's due date) stays the text YYYY-MM-DD: as a JavaScript Date it would become midnight in
// the server's time zone, a day off in half the world.
const DATE_OID = 1082;
const keepText = (value: string): string => value;
const DATE_AS_TEXT = { [DATE_OID]: keepText };

export async function connect(options: ConnectOptions): Promise<Db> {
  if (options.url) return connectPostgres(options.url, options.schema, options.poolSize ?? 10);
  return connectPglite(options.dataDir ?? './data', options.lockAs ?? 'custodian');
}

async function connectPglite(dataDir: string, lockAs: string): Promise<Db> {
  let pglite: PGlite;
  let location = 'memory';
  let unlock = async () => {};
  if (dataDir === 'memory://') {
    pglite = await PGlite.create({ parsers: DATE_AS_TEXT });
  } else {
    const dir = resolve(dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    location = dir;
    unlock = await lockFolder(resolve(dataDir), lockAs);
    try {
      pglite = await PGlite.create(dir, { parsers: DATE_AS_TEXT });
    } catch (e) {
      await unlock();
      throw new CustodianError('database_unavailable', `cannot open the embedded database in ${dir}: ${(e as Error).message}`);
    }
  }
  const kysely = new Kysely<Tables>({ dialect: new PGliteDialect({ pglite }) });
  return {
    kysely,
    engine: 'pglite',
    location,
    pglite,
    ping: pinger(kysely),
    script: (fn) =>
      pglite.transaction(async (tx) =>
        fn(async (text) => {
          const results = await tx.exec(text);
          return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
        }),
      ),
    close: async () => {
      await kysely.destroy();
      if (!pglite.closed) await pglite.close();
      await unlock();
    },
  };
}

async function connectPostgres(url: string, schema: string | undefined, poolSize: number): Promise<Db> {
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new CustodianError('bad_request', 'schema names use lower-case letters, digits and _');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === DATE_OID ? keepText : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection the server closed (a restart, an administrator's pg_terminate_backend) is reported here;
  // the pool has already dropped it and the next query opens a new one. Unheard, the event would end the process.
  pool.on('error', () => {});
  pool.on('connect', preparesMarked);
  const kysely = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Created only when absent: even IF NOT EXISTS asks for the right to create, which a least-privilege role lacks.
    const exists = schema ? (await sql<{ ok: boolean }>`SELECT to_regnamespace(${schema}) IS NOT NULL AS ok`.execute(kysely)).rows[0]?.ok : true;
    if (schema && !exists) await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(kysely);
    else await sql`SELECT 1`.execute(kysely);
  } catch (e) {
    await kysely.destroy();
    throw new CustodianError('database_unavailable', `cannot reach PostgreSQL at ${describeUrl(url)}: ${(e as Error).message}`);
  }
  const script = async <T>(fn: (run: ScriptRunner) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(async (text) => {
        const r = (await client.query(text)) as unknown as pg.QueryResult | pg.QueryResult[];
        const last = Array.isArray(r) ? r.at(-1) : r;
        return (last?.rows ?? []) as Record<string, unknown>[];
      });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  };
  return {
    kysely,
    engine: 'postgres',
    location: describeUrl(url) + (schema ? ` (schema ${schema})` : ''),
    postgres: { url, schema },
    withPgClient: async (fn) => {
      const client = await pool.connect();
      let isBroken = false;
      try {
        return await fn(client, () => {
          isBroken = true;
        });
      } finally {
        client.release(isBroken ? true : undefined);
      }
    },
    script,
    ping: pinger(kysely),
    close: () => kysely.destroy(),
  };
}

/** host:port/database, with any password left out. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'an unparseable DATABASE_URL';
  }
}
