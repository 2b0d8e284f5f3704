// How long people wait for Custodian to start: `custodian check` on the largest example register, a first start on
// an empty data folder (what `npm start` does the first time), and a start on that folder again. Each against a
// baseline measured in the same run: a bare `node -e 0`, and the embedded database opening the same kind of folder
// with nothing of Custodian. Always the embedded database (DATABASE_URL is removed), as `npm start` uses by default.
// Run: node bench/startup-bench.ts. Targets: check <= 300 ms, first start <= 10 s, start on existing data <= 3 s.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = process.execPath;
const CHECK_RUNS = Number(process.env.STARTUP_BENCH_CHECK_RUNS ?? 10);
const SERVE_RUNS = Number(process.env.STARTUP_BENCH_SERVE_RUNS ?? 3);
const LARGEST_REGISTER = 'examples/image-information-systems/register.yaml';
const SERVED_REGISTER = 'examples/image-diagnostic-technology/register.yaml';

const { DATABASE_URL: _u, CUSTODIAN_DATA: _d, CUSTODIAN_MASTER_KEY: _k, CUSTODIAN_REGISTER: _r, PORT: _p, HOST: _h, ...childEnv } = process.env;

/** Wall time of a whole process, from spawn to exit; refuses a non-zero exit. */
function timeProcess(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(node, args, { cwd: root, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`node ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** `custodian serve` on `dataDir`: milliseconds from spawn until /healthz answers 200; then a clean stop. */
async function timeServeUntilHealthy(dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(node, ['cli/main.ts', 'serve', '--register', SERVED_REGISTER, '--data', dataDir, '--port', '0', '--log-level', 'warn'], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "serving" line within 120 s:\n${out}`)), 120_000);
      const onData = (c: Buffer) => {
        out += c.toString();
        const m = /Custodian is serving .* at (http:\/\/\S+) /.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${code}) before listening:\n${out}`));
      });
    });
    for (let attempt = 0; attempt < 1000; attempt++) {
      const res = await fetch(`${base}/healthz`).catch(() => null);
      if (res?.status === 200) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`/healthz never answered 200:\n${out}`);
  } finally {
    child.kill('SIGTERM');
    if ((await exited) !== 0) process.stderr.write(`serve did not stop cleanly:\n${out}\n`);
  }
}

/** The embedded database alone: open (and on an empty folder, create) a data folder, one query, close. */
const PGLITE_ONLY = `import { mkdirSync } from 'node:fs'; import { PGlite } from '@electric-sql/pglite';
mkdirSync(process.argv[1], { recursive: true });
const db = await PGlite.create(process.argv[1]); await db.query('SELECT 1'); await db.close();`;
const timePgliteOpen = (dir: string) => timeProcess(['--input-type=module', '-e', PGLITE_ONLY, join(dir, 'pgdata')]);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function repeat(runs: number, once: (i: number) => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(i));
  return times;
}

interface Row {
  what: string;
  runs: number[];
  baseline?: { what: string; runs: number[] };
  targetMs?: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const temp = mkdtempSync(join(tmpdir(), 'custodian-startup-bench-'));
  try {
    say(`startup bench: check ${CHECK_RUNS} runs, serve ${SERVE_RUNS} runs each, on ${node}`);
    // One untimed run each, so the compile cache and the file system cache are warm as on any later run.
    await timeProcess(['-e', '0']);
    await timeProcess(['cli/main.ts', 'check', LARGEST_REGISTER]);
    const nodeStart = await repeat(CHECK_RUNS, () => timeProcess(['-e', '0']));
    const check = await repeat(CHECK_RUNS, () => timeProcess(['cli/main.ts', 'check', LARGEST_REGISTER]));
    rows.push({ what: `custodian check ${LARGEST_REGISTER}`, runs: check, baseline: { what: 'node -e 0', runs: nodeStart }, targetMs: 300 });

    const dirs = Array.from({ length: SERVE_RUNS }, (_, i) => join(temp, `data-${i}`));
    const pgliteCreate = await repeat(SERVE_RUNS, (i) => timePgliteOpen(join(temp, `pglite-${i}`)));
    const first = await repeat(SERVE_RUNS, (i) => timeServeUntilHealthy(dirs[i]!));
    rows.push({
      what: 'first start, empty data folder, until /healthz 200',
      runs: first,
      baseline: { what: 'PGlite create, empty folder', runs: pgliteCreate },
      targetMs: 10_000,
    });

    const pgliteOpen = await repeat(SERVE_RUNS, (i) => timePgliteOpen(join(temp, `pglite-${i}`)));
    const again = await repeat(SERVE_RUNS, (i) => timeServeUntilHealthy(dirs[i]!));
    rows.push({
      what: 'start on existing data folder, until /healthz 200',
      runs: again,
      baseline: { what: 'PGlite open, existing folder', runs: pgliteOpen },
      targetMs: 3_000,
    });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }

  const ms = (n: number) => `${Math.round(n).toLocaleString('en')} ms`;
  const table = [['measurement', 'median', 'runs', 'baseline (median)', 'ratio', 'target', '']];
  for (const r of rows) {
    const m = median(r.runs);
    const b = r.baseline ? median(r.baseline.runs) : undefined;
    table.push([
      r.what,
      ms(m),
      r.runs.map((t) => Math.round(t)).join(' '),
      r.baseline && b !== undefined ? `${r.baseline.what}: ${ms(b)}` : '',
      b !== undefined ? `${(m / b).toFixed(1)}x` : '',
      r.targetMs ? `<= ${ms(r.targetMs)}` : '',
      r.targetMs ? (m <= r.targetMs ? 'pass' : 'MISS') : '',
    ]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => (c === 1 || c === 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  // Other work on the machine moves every figure; the load average says how much to trust this run.
  lines.push(
    `(load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine at the end of the run)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
