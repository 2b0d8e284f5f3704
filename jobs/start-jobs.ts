// Background jobs on the same database (pg-boss): purging expired visitor sessions and old access-log lines.
// Several app processes can run this; pg-boss hands each scheduled run to one of them.
import { fromPglite, PgBoss } from 'pg-boss';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { purgeAccessLog } from '../http/access-log.ts';
import type { Register } from '../register/load-register.ts';
import { purgeVisitorSessions } from '../visitors/visitor-sessions.ts';

export interface JobsDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

/** Each job: its queue name, when it runs (cron, UTC) and what it does. */
export function jobDefinitions(deps: JobsDeps): { name: string; cron: string; run: () => Promise<number> }[] {
  return [
    { name: 'purge-visitor-sessions', cron: '*/5 * * * *', run: () => purgeVisitorSessions(deps.db, deps.clock) },
    { name: 'purge-access-log', cron: '17 * * * *', run: () => purgeAccessLog(deps.db, deps.register, deps.clock) },
  ];
}

export async function startJobs(deps: JobsDeps): Promise<{ stop(): Promise<void> }> {
  const { db } = deps;
  const boss = db.pglite
    ? new PgBoss({ db: fromPglite(db.pglite), schema: 'pgboss' })
    : new PgBoss({ connectionString: db.postgres!.url, schema: db.postgres!.schema ? `${db.postgres!.schema}_pgboss` : 'pgboss', max: 3 });
  boss.on('error', (e: Error) => deps.log(`jobs: ${e.message}`));
  await boss.start();
  for (const job of jobDefinitions(deps)) {
    await boss.createQueue(job.name);
    await boss.schedule(job.name, job.cron);
    await boss.work(job.name, async () => {
      const n = await job.run();
      if (n > 0) deps.log(`${job.name}: removed ${n}`);
    });
  }
  return { stop: () => boss.stop({ graceful: true, timeout: 5000 }) };
}
