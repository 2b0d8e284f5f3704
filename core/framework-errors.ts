// Turns what the web framework throws (schema validation, body parsing, routing) into the one coded error, so
// every scope answers in the catalogue's terms: the JSON API, the console pages and the hosted forms alike.
import type { FastifyError, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { CustodianError, type ErrorCode } from './errors.ts';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'bad_request',
};

// What a driver throws when the database cannot be reached, whatever the query: node's socket errors, PostgreSQL's
// connection exceptions (SQLSTATE class 08) and shutdowns (57P01-57P03, 53300), and a pool or engine already closed.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const UNREACHABLE_MESSAGES =
  /Connection terminated|connection is closed|terminating connection|Client has encountered a connection error|timeout exceeded when trying to connect|driver has already been destroyed|Cannot use a pool after calling end|PGlite instance is already closed|PGlite is closed/i;

/** Whether an error means the database could not be reached (a coded 503, never a 500). */
export function isDatabaseUnreachable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  return UNREACHABLE_CODES.has(code) || /^08...$/.test(code) || (typeof e?.message === 'string' && UNREACHABLE_MESSAGES.test(e.message));
}

/**
 * The error as an anonymous caller may see it: server-side faults (5xx) keep their code and lose their detail (a
 * key id, an audit partition, a location are for staff and the log, not for whoever posts a form).
 */
export function forAnonymous(err: CustodianError): CustodianError {
  return err.status >= 500 ? new CustodianError(err.code) : err;
}

export function toCustodianError(error: FastifyError | Error): CustodianError {
  if (error instanceof CustodianError) return error;
  if (isDatabaseUnreachable(error)) return new CustodianError('database_unavailable');
  const fe = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const where = fe.validationContext ?? 'body';
    const code: ErrorCode = where === 'querystring' ? 'invalid_query' : where === 'params' ? 'invalid_params' : 'invalid_body';
    const problems = fe.validation.map((v) => ({
      field: v.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)',
      problem: v.message ?? 'is not valid',
    }));
    return new CustodianError(code, `the ${where === 'querystring' ? 'query string' : where} is not valid`, { problems });
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new CustodianError(mapped, plainMessage(fe));
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new CustodianError(fe.statusCode === 404 ? 'not_found' : fe.statusCode === 405 ? 'method_not_allowed' : 'bad_request', plainMessage(fe));
  }
  return new CustodianError('internal');
}

function plainMessage(error: FastifyError): string {
  // Fastify's messages are safe (they name the problem, not the data) but carry internal prefixes.
  return (error.message || 'bad request').replace(/^FST_\w+:\s*/, '');
}

/** Logs a server-side fault (5xx): its code, route and cause, never the request body, query or headers. */
export function logServerFault(req: FastifyRequest, error: FastifyError | Error, err: CustodianError): void {
  if (err.status < 500) return;
  req.log.error({ code: err.code, route: req.routeOptions.url, cause: (error as FastifyError).code ?? error.name, stack: error.stack }, 'request failed');
}

/**
 * Parses what a request carries with its schema, or refuses with a coded 400 that lists each field's problem. The
 * problems name fields and rules, never the value given (it may be personal, and error answers can be logged).
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, code: 'invalid_query' | 'invalid_params' | 'invalid_body'): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = code === 'invalid_query' ? 'query string' : code === 'invalid_params' ? 'path' : 'body';
  const problems = parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', problem: i.message }));
  throw new CustodianError(code, `the ${where} is not valid`, { problems });
}
