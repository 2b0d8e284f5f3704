// What the document commands share: load a register or print the same report as `custodian check`, and
// write the result to a file or standard output.
import { writeFileSync } from 'node:fs';
import type { Register } from '../register/load-register.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import { formatReport } from '../register/problems.ts';

/** The register, or undefined after printing its problems to stderr and setting exit code 1. */
export function loadOrReport(file: string): Register | undefined {
  const result = loadRegisterFile(file);
  if (result.ok) return result.register;
  process.stderr.write(`${formatReport(file, result.problems)}\n`);
  process.exitCode = 1;
  return undefined;
}

export function writeOutput(text: string, out: string | undefined): void {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`custodian: cannot write ${out} (${err.code ?? err.message})\n`);
    process.exitCode = 1;
  }
}
