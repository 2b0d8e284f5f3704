// The register versions an installation has served. A register whose fingerprint is new when the service starts
// becomes a new notice version; an old one seen again only moves its last-served date.
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import type { RegisterVersionRow } from '../db/tables.ts';
import type { Register } from './load-register.ts';

export interface ServedVersion {
  readonly id: number;
  readonly fingerprint: string;
  readonly noticeVersion: string | null;
  readonly effective: string;
  readonly firstServedAt: string;
  readonly lastServedAt: string;
  readonly register: Register;
}

/** Records that `register` is being served now; returns whether it is a version not served before. */
export async function recordServedVersion(
  db: Db,
  register: Register,
  sourceYaml: string,
  clock: Clock,
): Promise<{ isNew: boolean }> {
  const now = clock.now();
  const inserted = await db.kysely
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
  return { isNew: new Date(inserted.first_served_at).getTime() === now.getTime() };
}

/** Every served version, oldest first. */
export async function listServedVersions(db: Db): Promise<ServedVersion[]> {
  const rows = await db.kysely.selectFrom('register_version').selectAll().orderBy('first_served_at').orderBy('id').execute();
  return rows.map(toVersion);
}

function toVersion(row: RegisterVersionRow): ServedVersion {
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
