// A whole Custodian app for one example register on a fresh test database, plus signed-in staff clients.
import type { FastifyInstance } from 'fastify';
import { checkpointKeysOf } from '../../audit/checkpoint.ts';
import { fixedClock } from '../../core/clock.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import type { Db } from '../../db/connect.ts';
import { buildApp } from '../../http/app.ts';
import { loadRegisterFile, type Register } from '../../register/load-register.ts';
import type { Role } from '../../staff/roles.ts';
import { Browser, GOOD_PASSWORD } from '../../staff/staff-test-kit.ts';
import { staffUsers } from '../../staff/users-service.ts';
import { auditWriter } from '../../cli/shared-options.ts';
import { openTestDb } from './test-db.ts';
import { testKeyring } from './test-keyring.ts';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly register: Register;
  readonly keyring: Keyring;
  readonly checkpointKeys: Uint8Array[];
  readonly clock: ReturnType<typeof fixedClock>;
  /** A browser-like client signed in as a new staff user of this role. */
  signedIn(role: Role): Promise<Browser>;
  close(): Promise<void>;
}

export function exampleRegister(name: string): Register {
  const loaded = loadRegisterFile(new URL(`../../examples/${name}/register.yaml`, import.meta.url).pathname);
  if (!loaded.ok) throw new Error(`example ${name} is not valid`);
  return loaded.register;
}

export async function testApp(example = 'image-diagnostic-technology', options: { logStream?: NodeJS.WritableStream } = {}): Promise<TestApp> {
  const register = exampleRegister(example);
  const db = await openTestDb();
  const keyring = testKeyring();
  const clock = fixedClock('2026-11-22T09:00:00Z');
  const app = await buildApp({ db, register, clock, keyring, logLevel: options.logStream ? 'info' : false, ...(options.logStream ? { logStream: options.logStream } : {}) });
  let n = 0;
  return {
    app,
    db,
    register,
    keyring,
    clock,
    checkpointKeys: checkpointKeysOf(keyring),
    async signedIn(role) {
      const email = `${role}${++n}@staff.example`;
      const users = staffUsers({ db, clock, audit: auditWriter(keyring, clock) });
      await users.create({ email, role, password: GOOD_PASSWORD }, 'system:test');
      const browser = new Browser(app, `198.51.100.${n}`);
      const res = await browser.signIn(email, GOOD_PASSWORD);
      if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`);
      return browser;
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}
