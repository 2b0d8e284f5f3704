// The one error type. Every failure a user can meet has a stable code, an HTTP status and a plain message.
// The list below is the documented catalogue (README "Error codes").

export const ERROR_CODES = {
  register_invalid: { status: 500, title: 'The privacy register is not valid' },
  not_found: { status: 404, title: 'No such resource' },
  route_not_found: { status: 404, title: 'No such route' },
  bad_request: { status: 400, title: 'The request is malformed' },
  invalid_body: { status: 400, title: 'The request body does not match what this endpoint accepts' },
  invalid_query: { status: 400, title: 'The query string does not match what this endpoint accepts' },
  invalid_fields: { status: 400, title: 'Some fields are not accepted by this collection point' },
  consent_required: { status: 400, title: 'A field is only used with a consent the submission does not give' },
  invalid_params: { status: 400, title: 'The path parameters are not valid' },
  unsupported_media_type: { status: 415, title: 'The request body has a content type this endpoint does not accept' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  unauthenticated: { status: 401, title: 'Sign-in required' },
  forbidden: { status: 403, title: 'Your role does not allow this' },
  rate_limited: { status: 429, title: 'Too many attempts; wait and try again' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  database_unavailable: { status: 503, title: 'The database is not reachable' },
  retention_applies: { status: 409, title: 'A retention rule still keeps these records' },
  disclosure_refused: { status: 409, title: 'The register does not allow this disclosure' },
  record_restricted: { status: 409, title: 'The record is restricted: it is only stored until the restriction is lifted' },
  transmission_failed: { status: 502, title: "The other controller's endpoint could not be reached or refused the data" },
  database_in_use: { status: 409, title: 'The embedded database is open in another process' },
  internal: { status: 500, title: 'Something went wrong on our side' },
  csrf_invalid: { status: 403, title: 'The form is out of date or did not come from this site; reload it and try again' },
  password_change_required: { status: 403, title: 'Change your one-time password before going on' },
  password_rejected: { status: 400, title: 'That password cannot be used' },
  master_key_missing: { status: 500, title: 'No master key is configured' },
  master_key_invalid: { status: 500, title: 'The master key configuration is not valid' },
  master_key_unknown: { status: 500, title: 'Data is wrapped by a master key this server does not have' },
  seal_invalid: { status: 500, title: 'A sealed value could not be opened' },
  subject_key_shredded: { status: 410, title: 'The subject was erased and its data key destroyed' },
  audit_input_invalid: { status: 500, title: 'An audit event was refused: audit events carry ids and codes, never personal values' },
  mail_invalid: { status: 400, title: 'A message could not be queued: its address, subject line or headers are not valid' },
  mail_config_invalid: { status: 500, title: 'The mail settings are not valid' },
  audit_chain_broken: { status: 500, title: 'The audit trail failed its integrity check; changes it would record are refused until it is investigated' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class CustodianError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CODES[code].title);
    this.name = 'CustodianError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}
