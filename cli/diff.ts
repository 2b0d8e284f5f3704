import { Command, Option } from 'commander';
import { loadOrReport, writeOutput } from '../documents/cli-support.ts';
import { diffRegisters, renderDiff } from '../documents/diff-registers.ts';
import { renderDiffDocument } from '../documents/render-diff.ts';

export const diffCommand = new Command('diff')
  .description('List what changed between two versions of a register, in plain words for the people the notice addresses, material changes first')
  .argument('<old>', 'the earlier register YAML file')
  .argument('<new>', 'the later register YAML file')
  .addOption(new Option('--format <format>', 'output format (html is a complete page)').choices(['text', 'md', 'html']).default('text'))
  .option('--out <path>', 'write to this file instead of standard output')
  .action((oldFile: string, newFile: string, opts: { format: 'text' | 'md' | 'html'; out?: string }) => {
    // Load both before stopping, so one run reports the problems of each.
    const before = loadOrReport(oldFile);
    const after = loadOrReport(newFile);
    if (!before || !after) return;
    const changes = diffRegisters(before, after);
    const text =
      opts.format === 'html' ? renderDiffDocument(changes, `Changes to the privacy notice of ${after.controller.name}`) : renderDiff(changes, opts.format);
    writeOutput(text, opts.out);
  });
