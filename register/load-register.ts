// Reads a register from YAML, keeping line and column of every node, validates shape and rules, and returns
// a frozen, fingerprinted Register, or every problem found, each located in the file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { checkRules } from './check-rules.ts';
import { fingerprintOf, canonicalJson } from './fingerprint.ts';
import { didYouMean, type Problem, type YamlPath } from './problems.ts';
import { RegisterSchema, type RegisterData } from './schema.ts';

export interface Register extends RegisterData {
  /** SHA-256 of the canonical JSON, hex. Identifies this exact version of the register. */
  readonly fingerprint: string;
  /** Canonical JSON text (sorted keys, no insignificant whitespace). */
  readonly canonical: string;
}

export type LoadResult = { ok: true; register: Register; warnings: Problem[]; source: string } | { ok: false; problems: Problem[] };

/** The largest register read: the biggest example is 31 KB, so a file this size is a mistake or an attack. */
const MAX_REGISTER_BYTES = 1024 * 1024;

export function loadRegisterFile(file: string): LoadResult {
  const refuse = (message: string): LoadResult => ({ ok: false, problems: [{ severity: 'error', path: [], message, line: 0, col: 0 }] });
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return refuse(code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'unknown error'})`);
  }
  try {
    // Asked of the file opened, not the name: a link swapped in between changes nothing.
    const stat = fstatSync(fd);
    if (!stat.isFile()) return refuse('is not a regular file (a register is a YAML file)');
    if (stat.size > MAX_REGISTER_BYTES) return refuse(`is ${stat.size} bytes; a register may be at most ${MAX_REGISTER_BYTES} bytes`);
    // Read at most one byte past the limit, whatever the size said: the file may grow while it is read.
    const buffer = Buffer.alloc(MAX_REGISTER_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_REGISTER_BYTES) return refuse(`is larger than ${MAX_REGISTER_BYTES} bytes; a register may be at most that`);
    return parseRegister(buffer.toString('utf8', 0, length));
  } catch (e) {
    return refuse(`cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  } finally {
    closeSync(fd);
  }
}

export function parseRegister(text: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locate = locator(doc, lineCounter);

  const yamlProblems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return {
      severity: doc.errors.includes(e as never) ? 'error' : 'warning',
      path: [],
      message: yamlMessage(e.code, e.message),
      line: pos.line,
      col: pos.col,
    } satisfies Problem;
  });
  if (yamlProblems.some((p) => p.severity === 'error')) return { ok: false, problems: yamlProblems };

  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [
        { severity: 'error', path: [], message: 'the register must be a YAML mapping (key: value lines), starting with "custodian: 1"', line: 1, col: 1 },
      ],
    };
  }

  const parsed = RegisterSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => schemaProblems(issue, raw, locate));
    // Report rule problems too, over the entries that are well formed, so one run shows everything.
    const covered = problems.map((p) => p.path.join('\u0000'));
    const rules = checkRules(salvage(raw as Record<string, unknown>))
      .filter((r) => r.severity === 'error' && !covered.some((c) => r.path.join('\u0000').startsWith(c)))
      .map((r) => ({ ...r, ...locate(r.path, r.at ?? 'value') }));
    return { ok: false, problems: [...yamlProblems, ...dedupe([...problems, ...rules])] };
  }

  const ruleProblems = checkRules(parsed.data).map((r) => ({ ...r, ...locate(r.path, r.at ?? 'value') }));
  const problems = [...yamlProblems, ...ruleProblems];
  if (problems.some((p) => p.severity === 'error')) return { ok: false, problems };

  const canonical = canonicalJson(parsed.data);
  const register = deepFreeze({ ...parsed.data, canonical, fingerprint: fingerprintOf(canonical) }) as Register;
  return { ok: true, register, warnings: problems, source: text };
}

/**
 * Reads the register leniently, so the rules can still run when the schema failed: every value that does not
 * fit its schema becomes empty (undefined, [] or {}) instead of failing the whole section.
 */
function salvage(raw: Record<string, unknown>): RegisterData {
  return lenient(RegisterSchema).parse(raw) as RegisterData;
}

function lenient(schema: z.ZodType): z.ZodType {
  const def = (
    schema as unknown as {
      def: { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; keyType?: z.ZodType; valueType?: z.ZodType; innerType?: z.ZodType };
    }
  ).def;
  switch (def.type) {
    case 'object': {
      const shape = Object.fromEntries(Object.entries(def.shape ?? {}).map(([k, v]) => [k, lenient(v)]));
      return z.object(shape).catch({});
    }
    case 'array':
      return z
        .array(z.unknown())
        .catch([])
        .transform((items) =>
          items.flatMap((item) => {
            const r = def.element!.safeParse(item);
            return r.success ? [r.data] : [];
          }),
        );
    case 'record':
      return z.record(z.string(), lenient(def.valueType!)).catch({});
    case 'default': {
      const inner = (def.innerType as unknown as { def: { type: string } }).def.type;
      // Containers fall back to empty; scalars keep their default when absent and become undefined when wrong.
      return ['object', 'array', 'record'].includes(inner) ? lenient(def.innerType!) : schema.catch(undefined as never);
    }
    case 'optional': {
      const inner = lenient(def.innerType!);
      return z
        .unknown()
        .transform((v) => inner.parse(v))
        .optional();
    }
    default:
      return schema.optional().catch(undefined);
  }
}

type Locate = (path: YamlPath, at?: 'key' | 'value') => { line: number; col: number };

/** Maps a path in the data to the line and column of its node; falls back to the nearest existing ancestor. */
function locator(doc: Document, lc: LineCounter): Locate {
  return (path, at = 'value') => {
    let node: unknown = doc.contents;
    let best: Node | null = (doc.contents as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const part = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part));
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && at === 'key' && isScalar(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
        best = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node) && typeof part === 'number') {
        node = node.items[part];
        if (!node) break;
        best = node as Node;
      } else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = lc.linePos(offset);
    return { line: pos.line, col: pos.col };
  };
}

function schemaProblems(issue: z.core.$ZodIssue, raw: unknown, locate: Locate): Problem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const make = (p: YamlPath, message: string, at: 'key' | 'value' = 'value'): Problem => ({
    severity: 'error',
    path: p,
    message,
    ...locate(p, at),
  });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = knownKeysAt(path);
      return issue.keys.map((k) =>
        make(
          [...path, k],
          k.includes(' ')
            ? `"${k}" is read as a setting name: inside { ... } a comma starts a new setting, so put text containing commas in quotes`
            : `"${k}" is not a setting the register knows here${didYouMean(k, allowed)}`,
          'key',
        ),
      );
    }
    case 'invalid_type': {
      const value = valueAt(raw, path);
      if (value === undefined) {
        const key = path[path.length - 1];
        return [make(path.slice(0, -1), `"${String(key)}" is missing: it is required here`)];
      }
      return [make(path, `should be ${article(issue.expected)}, but is ${describe(value)}`)];
    }
    case 'invalid_value': {
      const value = valueAt(raw, path);
      if (value === undefined) return [make(path.slice(0, -1), `"${String(path[path.length - 1])}" is missing: it is required here`)];
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : '';
      if (options.length === 1) return [make(path, issue.message.startsWith('Invalid') ? `must be ${options[0]}` : issue.message)];
      return [make(path, `"${String(value)}" is not allowed here${hint}; use one of: ${options.join(', ')}`)];
    }
    case 'invalid_union': {
      const value = valueAt(raw, path);
      if (!issue.message.startsWith('Invalid input')) return [make(path, issue.message)];
      if (value === undefined) return [make(path.slice(0, -1), `"${String(path[path.length - 1])}" is missing: it is required here`)];
      return [make(path, `should be text, or text per language such as { en: ..., de: ... }, but is ${describe(value)}`)];
    }
    case 'too_small':
      if (issue.origin === 'array')
        return [
          make(
            path,
            issue.message.startsWith('Too small') ? `must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}` : issue.message,
          ),
        ];
      if (issue.origin === 'string') return [make(path, 'must not be empty')];
      return [make(path, `must be at least ${String(issue.minimum)}`)];
    case 'too_big':
      return [make(path, `must be at most ${String(issue.maximum)}`)];
    case 'invalid_format': {
      const shown = `"${String(valueAt(raw, path))}"`;
      if (issue.message.startsWith('Invalid')) return [make(path, `${shown} is not a valid ${issue.format}`)];
      return [make(path, issue.message.startsWith('is ') ? `${shown} ${issue.message}` : `${shown} is not valid: ${issue.message}`)];
    }
    case 'invalid_key':
      return [make(path, `has a key that is not allowed: keys use lower-case letters, digits and hyphens, starting with a letter`)];
    default:
      return [make(path, issue.message)];
  }
}

function knownKeysAt(path: YamlPath): string[] {
  // Walk the schema's shape along the path to suggest the keys that are allowed there.
  let schema: unknown = RegisterSchema;
  for (const part of path) {
    schema = unwrap(schema);
    const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown } }).def;
    if (!def) return [];
    if (def.type === 'object' && def.shape) schema = def.shape[String(part)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return [];
  }
  schema = unwrap(schema);
  const shape = (schema as { def?: { shape?: Record<string, unknown> } }).def?.shape;
  return shape ? Object.keys(shape) : [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (s?.def && (s.def.type === 'optional' || s.def.type === 'default' || s.def.type === 'nullable')) {
    s = s.def.innerType as typeof s;
  }
  return s;
}

function valueAt(raw: unknown, path: YamlPath): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function article(type: string): string {
  const words: Record<string, string> = {
    string: 'text',
    number: 'a number',
    boolean: 'true or false',
    object: 'a mapping (key: value lines)',
    array: 'a list',
    record: 'a mapping (key: value lines)',
  };
  return words[type] ?? type;
}

function describe(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text "${value}"`;
  if (typeof value === 'boolean') return String(value);
  return `the ${typeof value} ${String(value)}`;
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  if (code === 'DUPLICATE_KEY') return 'this key appears twice in the same mapping; YAML keeps only one, so remove or rename one of them';
  if (code === 'BAD_INDENT' || code === 'MISSING_CHAR') return `YAML syntax: ${first} (check the indentation of this line and the one above)`;
  return `YAML syntax: ${first}`;
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path.join('.')}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
