import { Command, Option } from 'commander';
import { loadOrReport, writeOutput } from '../documents/cli-support.ts';
import { renderRopa } from '../documents/render-ropa.ts';

export const ropaCommand = new Command('ropa')
  .description('Generate the record of processing activities (Art. 30(1), and Art. 30(2) when the business is also a processor) as JSON, CSV or HTML')
  .argument('<file>', 'register YAML file')
  .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv', 'html']).makeOptionMandatory())
  .option('--out <path>', 'write to this file instead of standard output')
  .action((file: string, opts: { format: 'json' | 'csv' | 'html'; out?: string }) => {
    const register = loadOrReport(file);
    if (!register) return;
    writeOutput(renderRopa(register, opts.format), opts.out);
  });
