// What keeps the request queue honest without anyone remembering to: unconfirmed web requests expire with their
// link (the requester's details deleted), staff get one digest a day of requests due soon or overdue, and a closed
// request's record of who asked is deleted when its evidence period ends (the decisions and the trail stay).
import type { AppContext } from '../app/app-context.ts';
import { subtractDuration } from '../core/duration.ts';
import { staffUsers } from '../staff/users-service.ts';
import { listRequestViews } from './request-queue.ts';
import { expireUnconfirmedRequests, purgeRequestContacts, recordReminder } from './requests-store.ts';

export type HousekeepingDeps = Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register' | 'mailer'>;

export async function expireUnconfirmed(deps: HousekeepingDeps): Promise<number> {
  return deps.db.kysely.transaction().execute((trx) => expireUnconfirmedRequests(trx, deps.auditor, deps.clock.now()));
}

export async function purgeClosedRequestContacts(deps: HousekeepingDeps): Promise<number> {
  const now = deps.clock.now();
  return deps.db.kysely
    .transaction()
    .execute((trx) => purgeRequestContacts(trx, deps.auditor, subtractDuration(now, deps.register.rights['evidence-kept']), now));
}

/**
 * One message to each active owner and DPO listing the open requests due within a week or overdue: ids, types and
 * dates only (the message goes through the mail outbox, and nothing about the requester is in it).
 */
export async function remindStaff(deps: HousekeepingDeps, options: { consoleUrl: string }): Promise<number> {
  const pressing = (await listRequestViews(deps, 'open')).filter((v) => v.flag === 'overdue' || v.flag === 'due-soon');
  if (pressing.length === 0) return 0;
  const staff = (await staffUsers(deps).list()).filter((u) => !u.disabledAt && (u.role === 'owner' || u.role === 'dpo'));
  if (staff.length === 0) return 0;
  const overdue = pressing.filter((v) => v.flag === 'overdue').length;
  const lines = pressing.map(
    (v) =>
      `- ${v.type}, due ${v.dueAt} (${v.daysLeft < 0 ? `${-v.daysLeft} days overdue` : v.daysLeft === 0 ? 'due today' : `${v.daysLeft} days left`}): ${options.consoleUrl.replace(/\/$/, '')}/console/requests/${v.id}`,
  );
  const subjectLine = `Rights requests: ${overdue > 0 ? `${overdue} overdue, ` : ''}${pressing.length - overdue} due within a week`;
  const text = `Rights requests that need attention at ${deps.register.controller.name}:\n\n${lines.join('\n')}\n\nThe queue: ${options.consoleUrl.replace(/\/$/, '')}/console/requests\n`;
  await deps.db.kysely.transaction().execute(async (trx) => {
    for (const u of staff) await deps.mailer.enqueue(trx, deps.auditor, { kind: 'request-reminder', to: u.email, subjectLine, text, actor: 'system:requests' });
    await recordReminder(trx, deps.auditor, { requests: pressing.length, overdue, staff: staff.length });
  });
  return staff.length;
}
