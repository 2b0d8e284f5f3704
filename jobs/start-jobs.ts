// Background jobs on the same database (pg-boss): purging expired visitor sessions and old access-log lines, a
// signed checkpoint of the audit trail every minute in which events were written, delivering due mail every minute
// (when an SMTP server is configured) and clearing the content of mail past its retention period daily.
// Several app processes can run this; pg-boss hands each scheduled run to one of them.
import { fromPglite, PgBoss } from 'pg-boss';
import { purgeAccessLog } from '../access-log/access-log.ts';
import type { AppContext } from '../app/app-context.ts';
import { purgeVisitorSessions } from '../visitors/visitor-session-store.ts';

export type JobsDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor' | 'mailer' | 'log'>;

/** Each job: its queue name, when it runs (cron, UTC) and what it does. */
function jobDefinitions(ctx: JobsDeps): { name: string; cron: string; run: () => Promise<number>; quiet?: boolean }[] {
  return [
    { name: 'purge-visitor-sessions', cron: '*/5 * * * *', run: () => purgeVisitorSessions(ctx.db, ctx.auditor, ctx.clock.now()) },
    { name: 'purge-access-log', cron: '17 * * * *', run: () => purgeAccessLog(ctx) },
    { name: 'purge-mail-content', cron: '43 3 * * *', run: () => ctx.mailer.purgeSent(ctx.clock.now()) },
    // The mailer logs each failed attempt itself (ids and codes only).
    ...(ctx.mailer.configured ? [{ name: 'send-mail', cron: '* * * * *', run: () => ctx.mailer.flush(), quiet: true }] : []),
    ...(ctx.auditor.witness
      ? [{ name: 'audit-checkpoint', cron: '* * * * *', run: async () => ((await ctx.auditor.checkpoint(ctx.db.kysely)) ? 1 : 0), quiet: true }]
      : []),
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
      let n: number;
      try {
        n = await job.run();
      } catch (e) {
        ctx.log.warn(`${job.name} failed: ${(e as Error).message}`);
        throw e;
      }
      if (n > 0 && !job.quiet) ctx.log.info(`${job.name}: removed ${n}`);
    });
  }
  return { stop: () => boss.stop({ graceful: true, timeout: 5000 }) };
}
