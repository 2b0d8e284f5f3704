// Server-side visitor sessions (seed 000: a session file indexed by a session ID, deleted a while after the visit).
// The cookie holds a random id; the database holds only its SHA-256, the data and the expiry. A session's data is
// what a visitor typed into a hosted form (never sealed values): keeping it and deleting it are audited here.
import { createHash, randomBytes } from 'node:crypto';
import type { Auditor } from '../audit/auditor.ts';
import { addDuration } from '../core/duration.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';

export interface VisitorSessionConfig {
  readonly cookieName: string;
  readonly idle: string;
}

/** The register's visitor-session settings, or null when the register declares none (then no cookie is set). */
export function visitorSessionConfig(register: Register): VisitorSessionConfig | null {
  const s = register.service['visitor-session'];
  if (!s) return null;
  const cookie = register.cookies[s.cookie];
  return { cookieName: cookie?.names[0] ?? s.cookie, idle: s.idle };
}

const hash = (token: string) => createHash('sha256').update(token).digest();

export function newVisitorToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function loadVisitorSession(db: Db, token: string, now: Date): Promise<Record<string, unknown> | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await db.kysely.selectFrom('visitor_session').select(['data', 'expires_at']).where('id_hash', '=', hash(token)).executeTakeFirst();
  if (!row || new Date(row.expires_at) <= now) return null;
  return row.data;
}

/**
 * Stores the session's data and pushes its expiry one idle period into the future. `draft` says what changed: the
 * point whose draft was kept and how many fields it holds (0: cleared after the form was sent).
 */
export async function saveVisitorSession(
  db: Db,
  auditor: Auditor,
  save: { token: string; data: Record<string, unknown>; config: VisitorSessionConfig; now: Date; draft: { point: string; fields: number } },
): Promise<void> {
  const expires = addDuration(save.now, save.config.idle);
  const data = JSON.stringify(save.data);
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .insertInto('visitor_session')
      .values({ id_hash: hash(save.token), data, created_at: save.now, last_seen_at: save.now, expires_at: expires })
      .onConflict((oc) => oc.column('id_hash').doUpdateSet({ data, last_seen_at: save.now, expires_at: expires }))
      .execute();
    await auditor.append(
      trx,
      { actor: `public:${save.draft.point}`, action: 'visitor.draft', detail: { point: save.draft.point, fields: save.draft.fields } },
      save.now,
    );
  });
}

/** Deletes expired sessions and the information they hold; returns how many. Run by the purge job. */
export async function purgeVisitorSessions(db: Db, auditor: Auditor, now: Date): Promise<number> {
  return db.kysely.transaction().execute(async (trx) => {
    const r = await trx.deleteFrom('visitor_session').where('expires_at', '<=', now).executeTakeFirst();
    const count = Number(r.numDeletedRows);
    if (count > 0) await auditor.append(trx, { actor: 'system:purge-visitor-sessions', action: 'visitor.purge', detail: { count } }, now);
    return count;
  });
}
