// One owner per table: SQL lives in `*-store.ts` files (and db/, which connects and migrates), so a reader finds every
// statement on a table beside its declaration, and every write next to the audit event it appends. A query written
// anywhere else fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { productionFiles, sourceOf } from './helpers/source-files.ts';

const QUERY = /\b(selectFrom|insertInto|updateTable|deleteFrom)\(|\bsql(<[^>]*>)?`|\bsql\.(raw|join|id|ref|lit)\(|\.query\(\s*['"`]/;

/** Where SQL may be, and why. Everything else must leave it to a store. */
const ALLOWED: readonly [RegExp, string][] = [
  [/-store\.ts$/, 'the store of the folder that owns the table'],
  [/^db\//, 'connecting, migrating and decoding COPY: the database itself, no table of its own'],
];

test('no file outside the stores and db/ holds SQL', () => {
  const offenders = productionFiles()
    .filter((file) => !ALLOWED.some(([pattern]) => pattern.test(file)))
    .flatMap((file) =>
      sourceOf(file)
        .split('\n')
        .flatMap((line, i) => (QUERY.test(line) ? [`${file}:${i + 1}: ${line.trim().slice(0, 100)}`] : [])),
    );
  assert.deepEqual(offenders, [], "move these queries into the owning folder's *-store.ts");
});

test('the check sees a query where one is written', () => {
  for (const line of [
    "db.kysely.selectFrom('record')",
    'await sql`DELETE FROM x`.execute(db)',
    'sql<{ n: number }>`SELECT 1`',
    "client.query('SELECT 1')",
    'sql.raw(text)',
  ]) {
    assert.ok(QUERY.test(line), line);
  }
  assert.equal(QUERY.test('// selected from the register'), false);
});

test('every table is declared by exactly one folder', () => {
  const declared = new Map<string, string[]>();
  for (const file of productionFiles().filter((f) => f.endsWith('/tables.ts') && !f.startsWith('db/'))) {
    for (const m of sourceOf(file).matchAll(/^\s+([a-z_]+): \w+Table;$/gm)) declared.set(m[1]!, [...(declared.get(m[1]!) ?? []), file]);
  }
  assert.ok(declared.size >= 12, `tables found: ${[...declared.keys()].join(', ')}`);
  for (const [table, files] of declared) assert.equal(files.length, 1, `${table} is declared in ${files.join(' and ')}`);
});
