// A browser-like client for the staff console in tests: it keeps cookies between requests and fills in the hidden
// fields (CSRF tokens) the way a form post would.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export const MINUTE = 60_000;
/** When the staff tests' clock starts. */
export const T0 = '2026-03-02T09:00:00.000Z';

interface InjectOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  readonly url: string;
  readonly form?: Record<string, string>;
  readonly json?: unknown;
  readonly headers?: Record<string, string>;
  readonly ip?: string;
  readonly html?: boolean;
}

/** A client that keeps cookies between requests, like a browser. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly app: FastifyInstance;
  readonly ip: string;

  constructor(app: FastifyInstance, ip = '203.0.113.10') {
    this.app = app;
    this.ip = ip;
  }

  async request(o: InjectOptions): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { 'user-agent': 'Mozilla/5.0 Firefox/140.0', ...(o.html === false ? {} : { accept: 'text/html' }), ...o.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | undefined;
    if (o.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(o.form).toString();
    } else if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(o.json);
    }
    const res = await this.app.inject({
      method: o.method ?? 'GET',
      url: o.url,
      headers,
      remoteAddress: o.ip ?? this.ip,
      ...(payload !== undefined ? { payload } : {}),
    });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const cleared = c.value === '' || c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now());
      if (cleared) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  /** Fills in the sign-in form as a person would: load it, then post it with its hidden fields. */
  async signIn(email: string, password: string, next?: string, headers?: Record<string, string>): Promise<LightMyRequestResponse> {
    const page = await this.request({ url: `/console/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`, ...(headers ? { headers } : {}) });
    return this.request({ method: 'POST', url: '/console/sign-in', form: { ...hiddenFields(page.body), email, password }, ...(headers ? { headers } : {}) });
  }

  /** The CSRF token of the signed-in session, read from a console page's sign-out form. */
  async csrf(): Promise<string> {
    const page = await this.request({ url: '/console/password' });
    const token = hiddenFields(page.body)._csrf;
    if (!token) throw new Error(`no CSRF token on the page (status ${page.statusCode})`);
    return token;
  }
}

export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (m[1] !== undefined && m[2] !== undefined) fields[m[1]] = decodeEntities(m[2]);
  }
  return fields;
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return text.replace(/&(#\d+|[a-z]+);/g, (all, e: string) => (e.startsWith('#') ? String.fromCharCode(Number(e.slice(1))) : (named[e] ?? all)));
}

export const GOOD_PASSWORD = 'tidy-harbour-lantern-47';
