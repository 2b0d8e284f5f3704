// The access log: one line per request with time, method, route pattern, status, duration, and (only when the
// register declares an access-log purpose) the truncated IP and browser family. Never bodies, query strings or
// personal values. Lines are written in batches so logging never slows a request down; they are kept for the
// access-log purpose's period (or 30 days when the register names none) and then purged.
import type { AppContext } from '../app/app-context.ts';
import { browserFamily, truncateIp } from '../core/client-info.ts';
import { subtractDuration } from '../core/duration.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { insertAccessLines, purgeAccessLines, type AccessLogLine } from './access-log-store.ts';

/** Kept when the register names no access-log purpose (and then no IP or browser is recorded at all). */
const DEFAULT_ACCESS_LOG_RETENTION = 'P30D';

/** What one request leaves behind. */
export interface RequestFacts {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly ms: number;
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
}

export class AccessLogWriter {
  readonly #db: Db;
  readonly #identifying: boolean;
  readonly #buffer: AccessLogLine[] = [];
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(ctx: Pick<AppContext, 'db' | 'register'>, flushEveryMs = 1000) {
    this.#db = ctx.db;
    this.#identifying = Boolean(ctx.register.service['access-log']);
    this.#timer = setInterval(() => void this.flush(), flushEveryMs);
    this.#timer.unref();
  }

  push(at: Date, r: RequestFacts): void {
    this.#buffer.push({
      at,
      method: r.method,
      route: r.route,
      status: r.status,
      duration_ms: Math.round(r.ms),
      ip_prefix: this.#identifying ? truncateIp(r.ip) : null,
      browser: this.#identifying ? browserFamily(r.userAgent) : null,
    });
    if (this.#buffer.length >= 500) void this.flush();
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#buffer.splice(0, this.#buffer.length);
      if (batch.length === 0) return;
      try {
        await insertAccessLines(this.#db, batch);
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

function accessLogRetention(register: Register): string {
  const key = register.service['access-log']?.purpose;
  return (key && register.purposes[key]?.retention.keep) || DEFAULT_ACCESS_LOG_RETENTION;
}

/** Deletes access-log lines older than the register's period; returns how many went. Run by the purge job. */
export function purgeAccessLog(ctx: Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor'>): Promise<number> {
  const now = ctx.clock.now();
  return purgeAccessLines(ctx.db, ctx.auditor, subtractDuration(now, accessLogRetention(ctx.register)), now);
}
