// The access log: one line per request with time, method, route pattern, status, duration, and (only when the
// register declares an access-log purpose) the truncated IP and browser family. Never bodies, query strings or
// personal values. Lines are written in batches so logging never slows a request down.
import type { FastifyInstance } from 'fastify';
import type { Insertable } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { subtractDuration } from '../core/duration.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import type { AccessLogTable } from '../subjects/tables.ts';
import { browserFamily, truncateIp } from './client-info.ts';

/** Kept when the register names no access-log purpose (and then no IP or browser is recorded at all). */
export const DEFAULT_ACCESS_LOG_RETENTION = 'P30D';

export class AccessLogWriter {
  readonly #db: Db;
  readonly #buffer: Insertable<AccessLogTable>[] = [];
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(db: Db, flushEveryMs = 1000) {
    this.#db = db;
    this.#timer = setInterval(() => void this.flush(), flushEveryMs);
    this.#timer.unref();
  }

  push(line: Insertable<AccessLogTable>): void {
    this.#buffer.push(line);
    if (this.#buffer.length >= 500) void this.flush();
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#buffer.splice(0, this.#buffer.length);
      if (batch.length === 0) return;
      try {
        await this.#db.kysely.insertInto('access_log').values(batch).execute();
      } catch {
        // The access log is best-effort: losing a batch during shutdown must not fail requests.
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

export function installAccessLog(app: FastifyInstance, deps: { db: Db; register: Register; clock: Clock }): AccessLogWriter {
  const writer = new AccessLogWriter(deps.db);
  const identifying = Boolean(deps.register.service['access-log']);
  app.addHook('onResponse', async (req, reply) => {
    writer.push({
      at: deps.clock.now(),
      method: req.method,
      route: req.routeOptions.url ?? '(unmatched)',
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime),
      ip_prefix: identifying ? truncateIp(req.ip) : null,
      browser: identifying ? browserFamily(req.headers['user-agent']) : null,
    });
  });
  app.addHook('onClose', async () => writer.close());
  return writer;
}

export function accessLogRetention(register: Register): string {
  const key = register.service['access-log']?.purpose;
  return (key && register.purposes[key]?.retention.keep) || DEFAULT_ACCESS_LOG_RETENTION;
}

/** Deletes access-log lines older than the register's period; returns how many went. */
export async function purgeAccessLog(db: Db, register: Register, clock: Clock): Promise<number> {
  const cutoff = subtractDuration(clock.now(), accessLogRetention(register));
  const r = await db.kysely.deleteFrom('access_log').where('at', '<', cutoff).executeTakeFirst();
  return Number(r.numDeletedRows);
}
