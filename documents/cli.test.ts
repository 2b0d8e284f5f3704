// The notice, ropa, diagram and diff commands, run as a user runs them: a separate Node process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixturePath } from './fixtures/load-fixture.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'custodian-documents-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const valid = fixturePath('full-uk.yaml');
const invalid = fixturePath('invalid.yaml');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `custodian ARGS`; asynchronous, so the many runs below overlap. */
function run(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/main.ts', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An invalid register: exit 1, the `check` report on stderr, nothing on stdout, no stack trace. */
function assertRejectsRegister(result: Run): void {
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /invalid\.yaml:20:18 {2}purposes\.care\.recipients\[0\] {2}recipient "nobody" is not declared/);
  assert.match(result.stderr, /invalid\.yaml: 1 error, 0 warnings/);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

function assertRejectsFormat(result: Run, allowed: string): void {
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, new RegExp(`argument 'pdf' is invalid\\. Allowed choices are ${allowed}\\.`));
}

describe('document commands', { concurrency: true }, () => {
  test('notice: HTML by default in the register language, Markdown and German on request, --out writes a file', async () => {
    const out = join(tmp, 'notice.html');
    const [html, md, de, written, help] = await Promise.all([
      run('notice', valid),
      run('notice', valid, '--format', 'md', '--lang', 'de'),
      run('notice', fixturePath('eu.yaml')),
      run('notice', valid, '--out', out),
      run('notice', '--help'),
    ]);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /^<!doctype html>\n<html lang="en">/);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^# Datenschutzerklärung\n/);
    assert.match(de.stdout, /<html lang="de">/, 'eu.yaml declares notice.language: de');
    assert.equal(written.code, 0);
    assert.equal(written.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), html.stdout);
    assert.match(help.stdout, /Generate the privacy notice/);
  });

  test('notice: invalid register, invalid format, invalid language', async () => {
    const [register, format, lang] = await Promise.all([run('notice', invalid), run('notice', valid, '--format', 'pdf'), run('notice', valid, '--lang', 'fr')]);
    assertRejectsRegister(register);
    assertRejectsFormat(format, 'html, md');
    assert.equal(lang.code, 1);
    assert.match(lang.stderr, /Allowed choices are en, de/);
  });

  test('ropa: JSON, CSV and HTML; --format is required', async () => {
    const [json, csv, html, register, format, missing, help] = await Promise.all([
      run('ropa', valid, '--format', 'json'),
      run('ropa', valid, '--format', 'csv'),
      run('ropa', valid, '--format', 'html'),
      run('ropa', invalid, '--format', 'json'),
      run('ropa', valid, '--format', 'pdf'),
      run('ropa', valid),
      run('ropa', '--help'),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { record: unknown[] }).record.length, 7);
    assert.match(csv.stdout, /^Record,Purpose or activity,/);
    assert.match(html.stdout, /<h1>Record of processing activities<\/h1>/);
    assertRejectsRegister(register);
    assertRejectsFormat(format, 'json, csv, html');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /required option '--format <format>' not specified/);
    assert.match(help.stdout, /record of processing activities/);
  });

  test('diagram: SVG and Mermaid', async () => {
    const [svg, mermaid, register, format, help] = await Promise.all([
      run('diagram', valid, '--format', 'svg'),
      run('diagram', valid, '--format', 'mermaid'),
      run('diagram', invalid, '--format', 'svg'),
      run('diagram', valid, '--format', 'pdf'),
      run('diagram', '--help'),
    ]);
    assert.equal(svg.code, 0, svg.stderr);
    assert.match(svg.stdout, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(mermaid.stdout, /^flowchart LR\n/);
    assertRejectsRegister(register);
    assertRejectsFormat(format, 'svg, mermaid');
    assert.match(help.stdout, /data-flow diagram/);
  });

  test('diff: no changes, a change in each format, invalid registers, invalid format', async () => {
    const longer = join(tmp, 'longer.yaml');
    writeFileSync(longer, readFileSync(valid, 'utf8').replace('keep: P8Y, after: scan-completed', 'keep: P11Y, after: scan-completed'));
    const [none, text, md, html, oldInvalid, newInvalid, format, help] = await Promise.all([
      run('diff', valid, valid),
      run('diff', valid, longer),
      run('diff', valid, longer, '--format', 'md'),
      run('diff', valid, longer, '--format', 'html'),
      run('diff', invalid, valid),
      run('diff', valid, invalid),
      run('diff', valid, valid, '--format', 'pdf'),
      run('diff', '--help'),
    ]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'No changes for the people this notice addresses.\n');
    assert.equal(text.code, 0, text.stderr);
    assert.equal(
      text.stdout,
      'Changes that matter to you:\n- We now keep data for "Arrange the scan your dentist requested" longer: 8 years → 11 years after your scan is completed.\n',
    );
    assert.match(md.stdout, /^<a id="material-changes"><\/a>\n\n## Changes that matter to you/);
    assert.match(html.stdout, /^<!doctype html>[\s\S]*<li>We now keep data for &quot;Arrange the scan/);
    assertRejectsRegister(oldInvalid);
    assertRejectsRegister(newInvalid);
    assertRejectsFormat(format, 'text, md, html');
    assert.match(help.stdout, /what changed between two versions/);
  });
});

describe('custodian check', () => {
  test('a register is checked; a device, a folder or an oversized file is refused at once, unread', async () => {
    const ok = await run('check', 'examples/image-diagnostic-technology/register.yaml');
    assert.equal(ok.code, 0, ok.stderr);
    for (const [file, why] of [
      ['/dev/zero', /is not a regular file/],
      ['examples', /is not a regular file/],
    ] as const) {
      const r = await run('check', file);
      assert.equal(r.code, 1);
      assert.match(r.stdout + r.stderr, why, file);
    }
    const dir = mkdtempSync(join(tmpdir(), 'custodian-check-'));
    try {
      const big = join(dir, 'big.yaml');
      writeFileSync(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
      const linked = join(dir, 'zero.yaml');
      symlinkSync('/dev/zero', linked);
      const r = await run('check', big);
      assert.equal(r.code, 1);
      assert.match(r.stdout + r.stderr, /is \d+ bytes; a register may be at most 1048576 bytes/);
      const z = await run('check', linked);
      assert.equal(z.code, 1);
      assert.match(z.stdout + z.stderr, /is not a regular file/, 'a link to a device is the device');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
