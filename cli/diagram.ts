import { Command, Option } from 'commander';
import { loadOrReport, writeOutput } from '../documents/cli-support.ts';
import { renderDiagram } from '../documents/render-diagram.ts';

export const diagramCommand = new Command('diagram')
  .description('Draw the data-flow diagram (collection points and sources → purposes → recipients, transfers abroad marked) as SVG or Mermaid')
  .argument('<file>', 'register YAML file')
  .addOption(new Option('--format <format>', 'output format').choices(['svg', 'mermaid']).makeOptionMandatory())
  .option('--out <path>', 'write to this file instead of standard output')
  .action((file: string, opts: { format: 'svg' | 'mermaid'; out?: string }) => {
    const register = loadOrReport(file);
    if (!register) return;
    writeOutput(renderDiagram(register, opts.format), opts.out);
  });
