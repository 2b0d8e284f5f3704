// The project's own TypeScript, read as source, for the tests that hold the code to its shape (where SQL lives, what
// every store write appends to the audit trail). Production files only: not tests, helpers, benchmarks or packages.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUTSIDE = new Set(['node_modules', 'test', 'bench', 'data', 'test-results', '.git', 'examples']);

/** Every production .ts file, as a path relative to the project root (forward slashes). */
export function productionFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || (dir === ROOT && OUTSIDE.has(entry.name))) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...productionFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(relative(ROOT, path).replaceAll('\\', '/'));
  }
  return out.sort();
}

export function sourceOf(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

export interface FunctionSource {
  readonly name: string;
  readonly exported: boolean;
  readonly params: readonly string[];
  /** The declared return type as written, or '' when inferred. */
  readonly returns: string;
  readonly body: string;
}

/** The top-level function declarations of a file. */
export function functionsOf(file: string): FunctionSource[] {
  const source = ts.createSourceFile(file, sourceOf(file), ts.ScriptTarget.Latest, true);
  const out: FunctionSource[] = [];
  for (const statement of source.statements) {
    if (!ts.isFunctionDeclaration(statement) || !statement.name || !statement.body) continue;
    out.push({
      name: statement.name.text,
      exported: statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false,
      params: statement.parameters.map((p) => p.name.getText(source)),
      returns: statement.type?.getText(source) ?? '',
      body: statement.body.getText(source),
    });
  }
  return out;
}
