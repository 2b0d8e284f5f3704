// A whole Custodian app for one example register on a fresh test database, built as the server builds it (one app
// context, the real composition root), plus signed-in staff clients and the audit trail to assert on.
import type { FastifyInstance } from 'fastify';
import { createAppContext, type AppContext } from '../../app/app-context.ts';
import { queryAuditLog, type AuditLogEntry } from '../../audit/query-audit-log.ts';
import type { Witness } from '../../audit/witness.ts';
import { fixedClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Db } from '../../db/connect.ts';
import { buildApp } from '../../http/app.ts';
import { loadRegisterFile, type Register } from '../../register/load-register.ts';
import type { Role } from '../../staff/roles.ts';
import { staffUsers, type StaffUsers } from '../../staff/users-service.ts';
import { Browser, GOOD_PASSWORD } from './staff-client.ts';
import { openTestDb } from './test-db.ts';
import { testKeyring } from './test-keyring.ts';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly ctx: AppContext;
  readonly db: Db;
  readonly register: Register;
  readonly keyring: Keyring;
  readonly clock: ReturnType<typeof fixedClock>;
  /** Staff accounts, through the same service the console uses. */
  readonly users: StaffUsers;
  /** The audit checkpoint keys, for verifying the trail. */
  readonly checkpointKeys: readonly Uint8Array[];
  /** Every audit event so far, oldest first (through the audit log query the console uses). */
  audits(): Promise<AuditLogEntry[]>;
  /** A browser-like client signed in as a new staff user of this role. */
  signedIn(role: Role): Promise<Browser>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly logStream?: NodeJS.WritableStream;
  /** pino level when logStream is given (default info). */
  readonly logLevel?: string;
  readonly https?: boolean;
  readonly trustProxy?: readonly string[];
  readonly requestTimeoutMs?: number;
  /** The fixed clock's start (default 2026-11-22T09:00:00Z). */
  readonly now?: string;
  /** Keys other than a fresh in-memory one (a key file, to test rotation). */
  readonly keyring?: Keyring;
  /** A database other than a fresh test one (closed with the app). */
  readonly db?: Db;
  /** Where audit checkpoints are witnessed (none by default). */
  readonly witness?: Witness;
  /** The SMTP server outgoing mail goes through (none by default: mail is held in the outbox). */
  readonly smtp?: { url: string; from?: string } | null;
  /** How long the content of sent mail is kept (default P30D). */
  readonly mailRetention?: string;
  /** Routes a test adds after the app's own (registered as a plugin of the root, as a new feature's would be). */
  readonly routes?: (app: FastifyInstance, ctx: AppContext) => Promise<void>;
  /** A register other than the example's (a test fixture). */
  readonly register?: Register;
}

export function exampleRegister(name: string): Register {
  const loaded = loadRegisterFile(new URL(`../../examples/${name}/register.yaml`, import.meta.url).pathname);
  if (!loaded.ok) throw new Error(`example ${name} is not valid`);
  return loaded.register;
}

export async function testApp(example = 'image-diagnostic-technology', options: TestAppOptions = {}): Promise<TestApp> {
  const register = options.register ?? exampleRegister(example);
  const db = options.db ?? (await openTestDb());
  const keyring = options.keyring ?? testKeyring();
  const clock = fixedClock(options.now ?? '2026-11-22T09:00:00Z');
  const ctx = createAppContext({
    db,
    register,
    clock,
    keyring,
    log: silentLogger,
    witness: options.witness ?? null,
    smtp: options.smtp ?? null,
    ...(options.mailRetention ? { mailRetention: options.mailRetention } : {}),
  });
  const app = await buildApp(ctx, {
    logLevel: options.logStream ? (options.logLevel ?? 'info') : false,
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(options.https ? { https: true } : {}),
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  const { routes } = options;
  if (routes) await app.register((scope) => routes(scope, ctx));
  const users = staffUsers(ctx);
  let n = 0;
  return {
    app,
    ctx,
    db,
    register,
    keyring,
    clock,
    users,
    get checkpointKeys() {
      return ctx.auditor.checkpointKeys();
    },
    audits: () => allAuditEvents(db),
    async signedIn(role) {
      const email = `${role}${++n}@staff.example`;
      await users.create({ email, role, password: GOOD_PASSWORD }, 'system:test');
      const browser = new Browser(app, `198.51.100.${n}`);
      const res = await browser.signIn(email, GOOD_PASSWORD);
      if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`);
      return browser;
    },
    async close() {
      await app.close();
      await ctx.mailer.close();
      await db.close();
    },
  };
}

/** The whole trail, oldest first. */
export async function allAuditEvents(db: Db): Promise<AuditLogEntry[]> {
  const events: AuditLogEntry[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await queryAuditLog(db, { limit: 1000, ...(before ? { before } : {}) });
    events.push(...page.events);
    if (!page.next) return events.reverse();
    before = page.next;
  }
}
