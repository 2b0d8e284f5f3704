// Background jobs on the same database (pg-boss): purging expired visitor sessions and old access-log lines.
// Several app processes can run this; pg-boss hands each scheduled run to one of them.
import { fromPglite, PgBoss } from 'pg-boss';
import { purgeAccessLog } from '../access-log/access-log.ts';
import type { AppContext } from '../app/app-context.ts';
import { purgeVisitorSessions } from '../visitors/visitor-session-store.ts';

export type JobsDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor' | 'log'>;

/** Each job: its queue name, when it runs (cron, UTC) and what it does. */
function jobDefinitions(ctx: JobsDeps): { name: string; cron: string; run: () => Promise<number> }[] {
  return [
    { name: 'purge-visitor-sessions', cron: '*/5 * * * *', run: () => purgeVisitorSessions(ctx.db, ctx.auditor, ctx.clock.now()) },
    { name: 'purge-access-log', cron: '17 * * * *', run: () => purgeAccessLog(ctx) },
  ];
}

export async function startJobs(ctx: JobsDeps): Promise<{ stop(): Promise<void> }> {
  const { db } = ctx;
  const boss = db.pglite
    ? new PgBoss({ db: fromPglite(db.pglite), schema: 'pgboss' })
    : new PgBoss({ connectionString: db.postgres!.url, schema: db.postgres!.schema ? `${db.postgres!.schema}_pgboss` : 'pgboss', max: 3 });
  boss.on('error', (e: Error) => ctx.log.warn(`jobs: ${e.message}`));
  await boss.start();
  for (const job of jobDefinitions(ctx)) {
    await boss.createQueue(job.name);
    await boss.schedule(job.name, job.cron);
    await boss.work(job.name, async () => {
      const n = await job.run();
      if (n > 0) ctx.log.info(`${job.name}: removed ${n}`);
    });
  }
  return { stop: () => boss.stop({ graceful: true, timeout: 5000 }) };
}
