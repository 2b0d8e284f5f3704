// Named prepared statements for the few hot statements whose text never changes (their rows travel as array
// parameters): the consent ledger's batch, the collection batch. PostgreSQL then parses and plans them once per
// connection instead of on every call; planning a statement of many data-modifying CTEs cost more than running it
// (bench/README.md, consent ingest). Kysely sends every query as text and parameters, so a statement asks for it by
// a marker at the start of its text, which every pooled connection looks for; on PGlite the marker is a comment.
import { createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type pg from 'pg';

const MARK = '/* custodian:prepare */';
/** Distinct prepared statements one connection keeps at most; past it, marked statements run unnamed. */
const MAX_PER_CONNECTION = 32;

/** The statement, marked to be prepared once per connection. Its text must not depend on the values. */
export function prepared<R>(query: RawBuilder<R>): RawBuilder<R> {
  return sql<R>`${sql.raw(MARK)} ${query}`;
}

/**
 * For pg.Pool's 'connect' event: this connection runs marked statements as named prepared statements, named by a
 * hash of their text (two texts never share a name, whatever the caller).
 */
export function preparesMarked(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && config.startsWith(MARK) && Array.isArray(values)) {
      let name = names.get(config);
      if (name === undefined && names.size < MAX_PER_CONNECTION) {
        name = `custodian_${createHash('sha256').update(config).digest('hex').slice(0, 24)}`;
        names.set(config, name);
      }
      if (name !== undefined) return query({ name, text: config, values }, callback);
    }
    return query(config, values, callback);
  };
}
