// `npm run bench`: every benchmark in turn, each in its own process so one's heap and pools never slow the next.
// Name some to run only those: `node bench/run.ts collect startup`. Missed targets are printed, never a failure;
// the exit code is non-zero only when a benchmark could not run at all.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = {
  audit: 'bench/audit-bench.ts',
  collect: 'bench/collect-bench.ts',
  consent: 'bench/consent-bench.ts',
  match: 'bench/match-bench.ts',
  requests: 'bench/requests-bench.ts',
  startup: 'bench/startup-bench.ts',
} as const;
type Name = keyof typeof BENCHES;

const root = fileURLToPath(new URL('..', import.meta.url));
const isName = (n: string): n is Name => n in BENCHES;
const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !isName(n));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
const names = asked.length > 0 ? asked.filter(isName) : (Object.keys(BENCHES) as Name[]);

function runBench(file: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: root, stdio: 'inherit' });
    child.once('error', (e) => {
      process.stderr.write(`${file}: ${e.message}\n`);
      resolve(null);
    });
    child.once('exit', (code) => resolve(code));
  });
}

const failed: string[] = [];
for (const name of names) {
  const file = BENCHES[name];
  process.stdout.write(`\n== ${name} (${file})\n`);
  const started = performance.now();
  const code = await runBench(file);
  process.stdout.write(`== ${name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  if (code !== 0) failed.push(name);
}
if (failed.length > 0) {
  process.stderr.write(`could not run: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
