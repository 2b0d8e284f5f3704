import { Command } from 'commander';
import { loadRegisterFile } from '../register/load-register.ts';
import { formatReport } from '../register/problems.ts';

export const checkCommand = new Command('check')
  .description('Validate a privacy register and report every problem as FILE:LINE:COL  path  message')
  .argument('<file>', 'register YAML file')
  .option('--quiet', 'print only problems, not the summary line')
  .option('--json', 'print problems as JSON')
  .action((file: string, opts: { quiet?: boolean; json?: boolean }) => {
    const result = loadRegisterFile(file);
    const problems = result.ok ? result.warnings : result.problems;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ file, valid: result.ok, fingerprint: result.ok ? result.register.fingerprint : null, problems }, null, 2)}\n`);
    } else {
      const report = formatReport(file, problems);
      const text = opts.quiet ? report.split('\n').slice(0, -1).join('\n') : report;
      if (text) (result.ok ? process.stdout : process.stderr).write(`${text}\n`);
    }
    process.exitCode = result.ok ? 0 : 1;
  });
