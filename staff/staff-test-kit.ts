// Shared by the staff tests (not a test itself): a real Fastify app with the staff plugin on a fresh migrated
// database, an audit writer that records into a real table inside the caller's transaction, and a browser-like
// client that keeps cookies and fills in CSRF fields the way a form post would.
import type { Writable } from 'node:stream';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { installErrorHandling } from '../http/error-handler.ts';
import { installSecurityHeaders } from '../http/security-headers.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import type { StaffAudit, StaffAuditInput } from './staff-audit.ts';
import { staffPlugin } from './staff-plugin.ts';
import { staffUsers, type SignInPolicy, type StaffUsers } from './users-service.ts';

export const T0 = '2026-03-02T09:00:00.000Z';
export const MINUTE = 60_000;

export interface StaffTestApp {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly clock: ReturnType<typeof fixedClock>;
  readonly users: StaffUsers;
  /** The audit events committed so far, oldest first. */
  audits(): Promise<StaffAuditInput[]>;
  close(): Promise<void>;
}

export interface StaffTestOptions {
  readonly https?: boolean;
  readonly logStream?: Writable;
  readonly signInPolicy?: Partial<SignInPolicy>;
  /** Extra routes registered after the staff plugin (as the lead's route plugins will be). */
  readonly routes?: (app: FastifyInstance) => Promise<void>;
  readonly onRoute?: (app: FastifyInstance) => void;
}

/**
 * Writes audit events to a real table with the transaction it is given, so a rollback removes them too. Like the
 * real writer (audit/validate-audit-input.ts) it refuses anything that looks like an email or prose.
 */
export const tableAudit: StaffAudit = async (trx, input) => {
  const strings = [input.actor, ...Object.values(input.detail ?? {})].filter((v): v is string => typeof v === 'string');
  if (strings.some((v) => v.includes('@') || /\s/.test(v))) throw new Error(`audit event with personal data or prose: ${JSON.stringify(input)}`);
  await sql`INSERT INTO test_staff_audit (event) VALUES (${JSON.stringify(input)}::jsonb)`.execute(trx);
};

export async function staffTestApp(options: StaffTestOptions = {}): Promise<StaffTestApp> {
  const db = await openTestDb();
  await sql`CREATE TABLE test_staff_audit (id serial PRIMARY KEY, event jsonb NOT NULL)`.execute(db.kysely);
  const clock = fixedClock(T0);
  const app = Fastify({
    logger: options.logStream ? { level: 'trace', stream: options.logStream } : false,
    routerOptions: { ignoreTrailingSlash: true },
  });
  options.onRoute?.(app);
  installErrorHandling(app);
  await installSecurityHeaders(app, { https: options.https ?? false });
  await app.register(staffPlugin, {
    deps: { db, clock, audit: tableAudit, https: options.https ?? false, controllerName: 'Image Diagnostic Technology Ltd', ...(options.signInPolicy ? { signInPolicy: options.signInPolicy } : {}) },
  });
  if (options.routes) await app.register(options.routes);
  await app.ready();
  return {
    app,
    db,
    clock,
    users: staffUsers({ db, clock, audit: tableAudit }),
    audits: async () => {
      const { rows } = await sql<{ event: StaffAuditInput }>`SELECT event FROM test_staff_audit ORDER BY id`.execute(db.kysely);
      return rows.map((r) => r.event);
    },
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

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
    const res = await this.app.inject({ method: o.method ?? 'GET', url: o.url, headers, remoteAddress: o.ip ?? this.ip, ...(payload !== undefined ? { payload } : {}) });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const cleared = c.value === '' || c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now());
      if (cleared) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return res;
  }

  /** Fills in the sign-in form as a person would: load it, then post it with its hidden fields. */
  async signIn(email: string, password: string, next?: string): Promise<LightMyRequestResponse> {
    const page = await this.request({ url: `/console/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}` });
    return this.request({ method: 'POST', url: '/console/sign-in', form: { ...hiddenFields(page.body), email, password } });
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
