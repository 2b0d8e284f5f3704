// Turns what the web framework throws (schema validation, body parsing, routing) into the one coded error, so
// every scope answers in the catalogue's terms: the JSON API, the console pages and the hosted forms alike.
import type { FastifyError, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
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

export function toCustodianError(error: FastifyError | Error): CustodianError {
  if (error instanceof CustodianError) return error;
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
