// Background jobs on the same database (pg-boss): purging expired visitor sessions and old access-log lines, a
// signed checkpoint of the audit trail every minute in which events were written, delivering due mail every minute
// (when an SMTP server is configured), clearing the content of mail past its retention period daily, expiring
// unconfirmed rights requests, newsletter sign-ups and email-consent links, a weekday reminder to owners and DPOs of requests due soon or overdue, and deleting
// the requester's details from closed requests past their evidence period.
// Several app processes can run this; pg-boss hands each scheduled run to one of them.
import { fromPglite, PgBoss } from 'pg-boss';
import { purgeAccessLog } from '../access-log/access-log.ts';
import type { AppContext } from '../app/app-context.ts';
import { purgeLapsedEmailConsents } from '../consent/email-consent.ts';
import { purgeUnconfirmed } from '../consent/newsletter.ts';
import { expireUnconfirmed, purgeClosedRequestContacts, remindStaff } from '../requests/housekeeping.ts';
import { purgeVisitorSessions } from '../visitors/visitor-session-store.ts';

export type JobsDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor' | 'mailer' | 'log'>;

/** Each job: its queue name, when it runs (cron, UTC) and what it does. */
function jobDefinitions(ctx: JobsDeps, options: JobOptions): { name: string; cron: string; run: () => Promise<number>; quiet?: boolean }[] {
  return [
    { name: 'purge-visitor-sessions', cron: '*/5 * * * *', run: () => purgeVisitorSessions(ctx.db, ctx.auditor, ctx.clock.now()) },
    { name: 'purge-access-log', cron: '17 * * * *', run: () => purgeAccessLog(ctx) },
    { name: 'purge-mail-content', cron: '43 3 * * *', run: () => ctx.mailer.purgeSent(ctx.clock.now()) },
    { name: 'expire-requests', cron: '23 * * * *', run: () => expireUnconfirmed(ctx) },
    // Newsletter sign-ups never confirmed are deleted once their link has run out (register service.newsletter).
    ...(ctx.register.service.newsletter ? [{ name: 'purge-newsletter-sign-ups', cron: '29 * * * *', run: () => purgeUnconfirmed(ctx) }] : []),
    // Confirmation links of email consent ticked on forms that ran out: their rows are deleted (the consents lapsed).
    { name: 'purge-email-consent-links', cron: '31 * * * *', run: () => purgeLapsedEmailConsents(ctx) },
    { name: 'purge-request-contacts', cron: '51 3 * * *', run: () => purgeClosedRequestContacts(ctx) },
    { name: 'remind-requests', cron: '0 7 * * 1-5', run: () => remindStaff(ctx, { consoleUrl: options.publicUrl }), quiet: true },
    // The mailer logs each failed attempt itself (ids and codes only).
    ...(ctx.mailer.configured ? [{ name: 'send-mail', cron: '* * * * *', run: () => ctx.mailer.flush(), quiet: true }] : []),
    ...(ctx.auditor.witness
      ? [{ name: 'audit-checkpoint', cron: '* * * * *', run: async () => ((await ctx.auditor.checkpoint(ctx.db.kysely)) ? 1 : 0), quiet: true }]
      : []),
  ];
}

export interface JobOptions {
  /** Where staff open the console, for the links in reminders. */
  readonly publicUrl: string;
}

export async function startJobs(ctx: JobsDeps, options: JobOptions): Promise<{ stop(): Promise<void> }> {
  const { db } = ctx;
  const boss = db.pglite
    ? new PgBoss({ db: fromPglite(db.pglite), schema: 'pgboss' })
    : new PgBoss({ connectionString: db.postgres!.url, schema: db.postgres!.schema ? `${db.postgres!.schema}_pgboss` : 'pgboss', max: 3 });
  boss.on('error', (e: Error) => ctx.log.warn(`jobs: ${e.message}`));
  await boss.start();
  for (const job of jobDefinitions(ctx, options)) {
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
