// A problem found in a register, with where it is, so a DPO can go straight to the line.

export type Severity = 'error' | 'warning';
export type YamlPath = readonly (string | number)[];

export interface Problem {
  readonly severity: Severity;
  readonly path: YamlPath;
  readonly message: string;
  /** 1-based; 0 when the problem is about the file as a whole. */
  readonly line: number;
  readonly col: number;
}

/** Formats a path the way YAML reads: purposes.marketing.channels.email, fields["patient.name"]. */
export function formatPath(path: YamlPath): string {
  if (path.length === 0) return '(document)';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function formatProblem(file: string, p: Problem): string {
  const where = `${file}:${p.line}:${p.col}`;
  const prefix = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}  ${formatPath(p.path)}  ${prefix}${p.message}`;
}

export function formatReport(file: string, problems: readonly Problem[]): string {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const lines = sorted.map((p) => formatProblem(file, p));
  const summary =
    errors === 0 && warnings === 0
      ? `${file}: register is valid`
      : `${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return [...lines, summary].join('\n');
}

/** Closest candidate by edit distance, for "did you mean" hints. */
function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c ? ` (did you mean "${c}"?)` : '';
}
