// The register versions an installation has served. A register whose fingerprint is new when the service starts
// becomes a new notice version; one that differs from the version served last becomes active again, and either is
// in the audit trail (register.activate). An old version seen again only moves its last-served date.
import { sql, type Selectable } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from './load-register.ts';
import type { RegisterVersionTable } from './tables.ts';

const ACTIVATION_LOCK = 'custodian:register-activation';

export interface ServedVersion {
  readonly id: number;
  readonly fingerprint: string;
  readonly noticeVersion: string | null;
  readonly effective: string;
  readonly firstServedAt: string;
  readonly lastServedAt: string;
  readonly register: Register;
}

/**
 * Records that `register` is being served from `now`; returns whether it is a version never served before, and
 * whether it became the active one (it differs from the version served last). Processes starting together with the
 * same register record one activation between them.
 */
export async function recordServedVersion(
  db: Db,
  auditor: Auditor,
  register: Register,
  sourceYaml: string,
  now: Date,
): Promise<{ isNew: boolean; activated: boolean }> {
  return db.kysely.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${ACTIVATION_LOCK}))`.execute(trx);
    const last = await trx
      .selectFrom('register_version')
      .select('fingerprint')
      .orderBy('last_served_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const inserted = await trx
      .insertInto('register_version')
      .values({
        fingerprint: register.fingerprint,
        canonical: register.canonical,
        source_yaml: sourceYaml,
        notice_version: register.notice.version ?? null,
        effective: register.notice.effective,
        first_served_at: now,
        last_served_at: now,
      })
      .onConflict((oc) => oc.column('fingerprint').doUpdateSet({ last_served_at: now }))
      .returning(['first_served_at'])
      .executeTakeFirstOrThrow();
    const isNew = new Date(inserted.first_served_at).getTime() === now.getTime();
    const activated = last?.fingerprint !== register.fingerprint;
    if (activated) {
      await auditor.append(
        trx,
        { actor: 'system:serve', action: 'register.activate', detail: { newVersion: isNew, ...(last ? { previous: last.fingerprint } : {}) } },
        now,
      );
    }
    return { isNew, activated };
  });
}

/** Every served version, oldest first. */
export async function listServedVersions(db: Db): Promise<ServedVersion[]> {
  const rows = await db.kysely.selectFrom('register_version').selectAll().orderBy('first_served_at').orderBy('id').execute();
  return rows.map(toVersion);
}

function toVersion(row: Selectable<RegisterVersionTable>): ServedVersion {
  const canonical = typeof row.canonical === 'string' ? row.canonical : JSON.stringify(row.canonical);
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    noticeVersion: row.notice_version,
    effective: isoDate(row.effective),
    firstServedAt: new Date(row.first_served_at).toISOString(),
    lastServedAt: new Date(row.last_served_at).toISOString(),
    register: { ...(JSON.parse(canonical) as Register), fingerprint: row.fingerprint, canonical },
  };
}

function isoDate(value: Date | string): string {
  if (typeof value === 'string') return value.slice(0, 10);
  // DATE columns arrive as local-midnight Dates from node-postgres; format in local time to keep the day.
  const y = value.getFullYear();
  const m = String(value.getMonth() + 1).padStart(2, '0');
  const d = String(value.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}
