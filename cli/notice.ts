import { Command, Option } from 'commander';
import type { Language } from '../register/schema.ts';
import { loadOrReport, writeOutput } from '../documents/cli-support.ts';
import { renderNotice } from '../documents/render-notice.ts';

export const noticeCommand = new Command('notice')
  .description('Generate the privacy notice (UK/EU GDPR Arts. 13-14) from a register, as accessible HTML or Markdown, in English or German')
  .argument('<file>', 'register YAML file')
  .addOption(new Option('--format <format>', 'output format').choices(['html', 'md']).default('html'))
  .addOption(new Option('--lang <lang>', "language (default: the register's notice.language)").choices(['en', 'de']))
  .option('--out <path>', 'write to this file instead of standard output')
  .action((file: string, opts: { format: 'html' | 'md'; lang?: Language; out?: string }) => {
    const register = loadOrReport(file);
    if (!register) return;
    writeOutput(renderNotice(register, { format: opts.format, lang: opts.lang ?? register.notice.language }), opts.out);
  });
