// The only SQL for access_log. Lines are appended in batches by the writer; their purge after the register's
// period is audited. The lines themselves are not (the access log is itself a log of requests: auditing each would
// double every request, and a line holds no more than a route, a status, a truncated IP and a browser family).
import type { Insertable } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Db } from '../db/connect.ts';
import type { AccessLogTable } from './tables.ts';

export type AccessLogLine = Insertable<AccessLogTable>;

export async function insertAccessLines(db: Db, lines: readonly AccessLogLine[]): Promise<void> {
  await db.kysely
    .insertInto('access_log')
    .values([...lines])
    .execute();
}

/** Deletes lines from before `cutoff`; returns how many went. */
export async function purgeAccessLines(db: Db, auditor: Auditor, cutoff: Date, now: Date): Promise<number> {
  return db.kysely.transaction().execute(async (trx) => {
    const r = await trx.deleteFrom('access_log').where('at', '<', cutoff).executeTakeFirst();
    const count = Number(r.numDeletedRows);
    if (count > 0)
      await auditor.append(trx, { actor: 'system:purge-access-log', action: 'access-log.purge', detail: { count, before: cutoff.toISOString() } }, now);
    return count;
  });
}
