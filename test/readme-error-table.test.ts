// The README's error table is the public contract for error codes, so it must match the catalogue exactly: a code
// added to ERROR_CODES without a row (or a row left behind after a code is removed) fails here, not in a client.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../core/errors.ts';

interface Row {
  readonly line: number;
  readonly codes: string[];
  readonly status: number;
}

/** Rows of the table under "### Errors"; a row's first cell may list several codes (`a` / `b`, or `a`, `b`). */
function readmeErrorTable(): { rows: Row[]; malformed: string[] } {
  const lines = readFileSync(new URL('../README.md', import.meta.url), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^###\s+Errors\s*$/.test(l));
  const rows: Row[] = [];
  const malformed: string[] = [];
  if (start < 0) return { rows, malformed: ['README.md has no "### Errors" heading'] };
  const section = lines.slice(start + 1);
  const end = section.findIndex((l) => /^#{1,3}\s/.test(l));
  for (const [j, raw] of section.slice(0, end < 0 ? undefined : end).entries()) {
    const lineNo = start + 2 + j;
    const line = raw.trim();
    if (!line.startsWith('|')) continue;
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((c) => c.trim());
    const first = cells[0] ?? '';
    if (first === 'code' || /^:?-+:?$/.test(first)) continue; // header and separator
    const codes = (first.match(/`[^`]+`/g) ?? []).map((span) => span.slice(1, -1));
    // Anything but code spans and separators is probably a code written without backticks, which would go unchecked.
    if (codes.length === 0 || !/^[\s,/]*$/.test(first.replace(/`[^`]+`/g, ''))) {
      malformed.push(`line ${lineNo}: put every code in backticks, separated by "," or "/"`);
    } else if (!/^\d{3}$/.test(cells[1] ?? '')) {
      malformed.push(`line ${lineNo}: the status cell must be a three-digit HTTP status`);
    } else rows.push({ line: lineNo, codes, status: Number(cells[1]) });
  }
  if (rows.length === 0 && malformed.length === 0) malformed.push('the table under "### Errors" has no rows');
  return { rows, malformed };
}

const { rows, malformed } = readmeErrorTable();
const documented = new Map<string, Row>();
for (const row of rows) for (const code of row.codes) if (!documented.has(code)) documented.set(code, row);

test('the README error table is well formed', () => {
  assert.deepEqual(malformed, [], `README.md "### Errors": ${malformed.join('; ')}`);
});

test('every code in ERROR_CODES is in the README error table with its status', () => {
  const missing = Object.keys(ERROR_CODES).filter((code) => !documented.has(code));
  assert.deepEqual(missing, [], `README.md "### Errors" does not list: ${missing.join(', ')}`);
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    const row = documented.get(code);
    if (row) assert.equal(row.status, status, `README.md line ${row.line} gives \`${code}\` status ${row.status}, but ERROR_CODES says ${status}`);
  }
});

test('every code in the README error table exists in ERROR_CODES', () => {
  const unknown = [...documented.keys()].filter((code) => !Object.hasOwn(ERROR_CODES, code));
  assert.deepEqual(unknown, [], `README.md "### Errors" lists codes that core/errors.ts does not define: ${unknown.join(', ')}`);
});

test('no code is listed twice in the README error table', () => {
  const all = rows.flatMap((row) => row.codes);
  const twice = [...new Set(all.filter((code, i) => all.indexOf(code) !== i))];
  assert.deepEqual(twice, [], `README.md "### Errors" lists these codes more than once: ${twice.join(', ')}`);
});
