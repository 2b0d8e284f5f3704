// Multipart bodies (forms with files) for the collection routes and the hosted forms: read into the same plain
// body a JSON or form-encoded submission gives, files as `Upload`s, so prepare-submission.ts applies the register
// to all of them alike. Limits come from the register: each file at most its field's `max-size`, as many files as
// the point has file fields, and a request declaring more than all of them together is refused before it is read.
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CustodianError } from '../../core/errors.ts';
import type { Register } from '../../register/load-register.ts';
import { DEFAULT_FILE_MAX_BYTES } from '../../register/schema.ts';
import { Upload } from './prepare-submission.ts';

/** What a text part may hold, like a form-encoded body (64 KiB). */
const FIELD_BYTES = 64 * 1024;
/** Room for the text fields and the multipart framing on top of the files. */
const TEXT_ALLOWANCE = 1024 * 1024;

interface PartLimits {
  /** Largest single file, plus one byte: a file that fills it was cut short and is refused as too large. */
  readonly fileSize: number;
  readonly files: number;
  /** The whole request, as its Content-Length declares it. */
  readonly request: number;
}

/** The limits of a collection point: its file fields' sizes, and how many. */
export function pointLimits(register: Register, point: string): PartLimits {
  const sizes = Object.values(register.collection[point]!.fields)
    .filter((f) => f.type === 'file')
    .map((f) => f['max-size'] ?? DEFAULT_FILE_MAX_BYTES);
  const largest = Math.max(0, ...sizes);
  return { fileSize: largest + 1, files: sizes.length, request: sizes.reduce((a, b) => a + b, 0) + TEXT_ALLOWANCE };
}

/** The largest request any point accepts: the parser's own ceiling. */
function registerCeiling(register: Register): number {
  return Math.max(TEXT_ALLOWANCE, ...Object.keys(register.collection).map((k) => pointLimits(register, k).request));
}

/** Registers the multipart parser in this scope; bodies are read by `readMultipart`, never buffered by the plugin. */
export async function acceptMultipart(app: FastifyInstance, register: Register): Promise<void> {
  await app.register(multipart, { limits: { fileSize: registerCeiling(register), fieldSize: FIELD_BYTES }, throwFileSizeLimit: false });
}

/**
 * Reads a multipart body into a plain object (no prototype: a part named __proto__ stays a field and is refused as
 * undeclared). `prefix`: only parts named `prefix<name>` are fields, nested under `fields` (the staff route).
 */
export async function readMultipart(req: FastifyRequest, limits: PartLimits): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.request) {
    throw new CustodianError('payload_too_large', `a submission to this form may be at most ${limits.request} bytes`);
  }
  const body: Record<string, unknown> = Object.create(null);
  try {
    const parts = req.parts({ limits: { fileSize: limits.fileSize, files: limits.files, fieldSize: FIELD_BYTES, fields: 200, parts: 200 + limits.files } });
    for await (const part of parts) {
      if (Object.hasOwn(body, part.fieldname))
        throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems: [single(part.fieldname)] });
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        body[part.fieldname] = new Upload(part.filename ?? '', part.file.truncated ? bytes.subarray(0, limits.fileSize) : bytes);
      } else if (typeof part.value === 'string') {
        if (part.valueTruncated) throw new CustodianError('payload_too_large', `a text field may be at most ${FIELD_BYTES} bytes`);
        body[part.fieldname] = part.value;
      }
    }
  } catch (e) {
    throw multipartError(e);
  }
  return body;
}

function single(field: string) {
  return { field, code: 'single-value', problem: 'must be a single value' };
}

/** The parser's own refusals, in the catalogue's codes. */
function multipartError(e: unknown): unknown {
  if (e instanceof CustodianError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'FST_FILES_LIMIT') return new CustodianError('invalid_fields', 'some fields are not accepted', { problems: [tooManyFiles()] });
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_REQ_FILE_TOO_LARGE') {
    return new CustodianError('payload_too_large', 'the submission has more parts or data than this form takes');
  }
  if (code === 'FST_PROTO_VIOLATION') {
    return new CustodianError('invalid_fields', 'some fields are not accepted', {
      problems: [{ field: '(field name)', code: 'unknown-field', problem: 'is not a field of this form' }],
    });
  }
  return new CustodianError('bad_request', 'the multipart body could not be read');
}

function tooManyFiles() {
  return { field: '(files)', code: 'unknown-field', problem: 'this form takes no more files than it has file fields' };
}
