// CSRF defences for the staff console.
// Signed in: a synchronizer token per session, HMAC-SHA256(session csrf_secret, cookie token). It needs both the
// database row and the HttpOnly cookie, so neither a database read nor a cross-site page can produce it.
// Signing in (no session yet): a double-submit token. GET /console/sign-in sets a random value in an HttpOnly,
// SameSite=Strict cookie and repeats it in a hidden field; the POST must carry both, equal. Over https the cookie is
// `__Host-` prefixed (Secure, Path=/, no Domain), so a sibling subdomain cannot plant one; over plain http it is
// scoped to the sign-in path. It guards against login CSRF (being signed in to an attacker's account).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

const CSRF_FIELD = '_csrf';
const CSRF_HEADER = 'x-csrf-token';
export const PRESIGN_COOKIE = 'custodian_presign';

/** Name and path of the pre-session cookie (see above). */
export function presignCookie(https: boolean): { name: string; path: string } {
  return https ? { name: `__Host-${PRESIGN_COOKIE}`, path: '/' } : { name: PRESIGN_COOKIE, path: '/console/sign-in' };
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function sessionCsrfToken(csrfSecret: Uint8Array, sessionToken: string): string {
  return createHmac('sha256', csrfSecret).update(`csrf:${sessionToken}`).digest('base64url');
}

export function newPresignToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isWellFormedToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

/** Constant-time equality of two tokens (hashed first, so lengths never leak or throw). */
export function tokensEqual(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 512) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The token a request carries: the x-csrf-token header, else the `_csrf` form field. */
export function csrfFromRequest(req: FastifyRequest): unknown {
  const header = req.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = req.body;
  if (body && typeof body === 'object' && CSRF_FIELD in body) return (body as Record<string, unknown>)[CSRF_FIELD];
  return undefined;
}
