// The only SQL for rights requests. Every change appends its audit event here, in the caller's transaction: ids,
// the request type and codes only (never the requester's address, name or message).
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { DecisionAction, RequestStatus, RequestTables, RequestType } from './tables.ts';

type Executor = Kysely<Tables>;
export type RequestRow = Selectable<RequestTables['rights_request']>;
export type PauseRow = Selectable<RequestTables['rights_request_pause']>;

type NewRequest = Omit<
  RequestRow,
  'outcome' | 'outcome_reasons' | 'closed_at' | 'closed_by' | 'contact_purged_at' | 'extension_months' | 'on_behalf' | 'verification' | 'health_opinion'
> & {
  on_behalf: string | null;
  verification: string | null;
  health_opinion: string | null;
};

export async function insertRequest(trx: Transaction<Tables>, auditor: Auditor, row: NewRequest): Promise<void> {
  await trx.insertInto('rights_request').values(row).execute();
  await auditor.append(trx, {
    actor: row.created_by,
    action: 'request.receive',
    detail: {
      request: row.id,
      type: row.type,
      channel: row.channel,
      ...(row.duplicate_of ? { duplicateOf: row.duplicate_of } : {}),
      ...(row.on_behalf ? { onBehalf: true } : {}),
    },
  });
}

/** Open requests of this type from the same address (compared by hash), oldest first. */
export async function openRequestsByEmail(ex: Executor, emailHash: Uint8Array, type: RequestType): Promise<{ id: string }[]> {
  return ex
    .selectFrom('rights_request')
    .select('id')
    .where('email_hash', '=', emailHash)
    .where('type', '=', type)
    .where('status', 'in', ['unconfirmed', 'open'])
    .orderBy('received_at')
    .execute();
}

/** Unconfirmed requests from this address since a time: a mailbox is not sent confirmation links without end. */
export async function recentUnconfirmed(ex: Executor, emailHash: Uint8Array, since: Date): Promise<number> {
  const row = await ex
    .selectFrom('rights_request')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('email_hash', '=', emailHash)
    .where('status', '=', 'unconfirmed')
    .where('received_at', '>=', since)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function getRequest(ex: Executor, id: string): Promise<RequestRow | undefined> {
  return ex.selectFrom('rights_request').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockRequest(trx: Transaction<Tables>, id: string): Promise<RequestRow | undefined> {
  return trx.selectFrom('rights_request').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function requestByAnswerToken(ex: Executor, tokenHash: Uint8Array): Promise<RequestRow | undefined> {
  return ex.selectFrom('rights_request').selectAll().where('answer_token_hash', '=', tokenHash).executeTakeFirst();
}

export async function requestByConfirmToken(trx: Transaction<Tables>, tokenHash: Uint8Array): Promise<RequestRow | undefined> {
  return trx.selectFrom('rights_request').selectAll().where('confirm_token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
}

export interface RequestFilter {
  readonly statuses?: readonly RequestStatus[];
  readonly limit?: number;
}

/** Requests soonest due first (then the earliest received). */
export async function listRequests(ex: Executor, filter: RequestFilter = {}): Promise<RequestRow[]> {
  let q = ex.selectFrom('rights_request').selectAll();
  if (filter.statuses && filter.statuses.length > 0) q = q.where('status', 'in', [...filter.statuses]);
  return q
    .orderBy('due_on')
    .orderBy('received_at')
    .limit(filter.limit ?? 500)
    .execute();
}

/** What changed, as the audit trail names it; the detail is codes and dates only. */
export interface RequestChange {
  readonly action:
    | 'request.confirm'
    | 'request.verify'
    | 'request.identity'
    | 'request.pause'
    | 'request.resume'
    | 'request.extend'
    | 'request.close'
    | 'request.expire'
    | 'request.health-opinion'
    | 'request.answer'
    | 'request.download'
    | 'request.acknowledge'
    | 'request.transmit';
  readonly actor: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export async function updateRequest(
  trx: Transaction<Tables>,
  auditor: Auditor,
  id: string,
  patch: Partial<Omit<NewRequest, 'id'> & Pick<RequestRow, 'outcome' | 'outcome_reasons' | 'closed_at' | 'closed_by' | 'extension_months'>>,
  change: RequestChange,
): Promise<void> {
  if (Object.keys(patch).length > 0) await trx.updateTable('rights_request').set(patch).where('id', '=', id).execute();
  await auditor.append(trx, { actor: change.actor, action: change.action, detail: { request: id, ...(change.detail ?? {}) } });
}

export async function pausesOf(ex: Executor, requestId: string): Promise<PauseRow[]> {
  return ex.selectFrom('rights_request_pause').selectAll().where('request_id', '=', requestId).orderBy('from_on').execute();
}

export async function insertPause(trx: Transaction<Tables>, pause: Omit<PauseRow, 'to_on' | 'resumed_by'>): Promise<void> {
  await trx.insertInto('rights_request_pause').values(pause).execute();
}

export async function closePause(trx: Transaction<Tables>, requestId: string, fromOn: string, toOn: string, actor: string): Promise<void> {
  await trx
    .updateTable('rights_request_pause')
    .set({ to_on: toOn, resumed_by: actor })
    .where('request_id', '=', requestId)
    .where('from_on', '=', fromOn)
    .execute();
}

export async function subjectsOfRequest(ex: Executor, requestId: string): Promise<{ subject_id: string; linked_by: string; linked_at: Date }[]> {
  return ex
    .selectFrom('rights_request_subject')
    .select(['subject_id', 'linked_by', 'linked_at'])
    .where('request_id', '=', requestId)
    .orderBy('linked_at')
    .execute();
}

export async function linkSubject(
  trx: Transaction<Tables>,
  auditor: Auditor,
  link: { requestId: string; subjectId: string; actor: string; now: Date },
): Promise<boolean> {
  const inserted = await trx
    .insertInto('rights_request_subject')
    .values({ request_id: link.requestId, subject_id: link.subjectId, linked_by: link.actor, linked_at: link.now })
    .onConflict((oc) => oc.doNothing())
    .returning('subject_id')
    .execute();
  if (inserted.length === 0) return false;
  await auditor.append(trx, { actor: link.actor, action: 'request.link', subjectId: link.subjectId, detail: { request: link.requestId } });
  return true;
}

export interface Decision {
  readonly recordId: string;
  readonly action: DecisionAction;
  readonly reason: string | null;
}

/** What fulfilling the request did with each record: evidence, kept with the request. */
export async function insertDecisions(
  trx: Transaction<Tables>,
  auditor: Auditor,
  input: { requestId: string; subjectId: string; decisions: readonly Decision[]; actor: string; now: Date },
): Promise<void> {
  if (input.decisions.length === 0) return;
  await trx
    .insertInto('rights_request_decision')
    .values(
      input.decisions.map((d) => ({
        request_id: input.requestId,
        record_id: d.recordId,
        action: d.action,
        reason: d.reason,
        decided_at: input.now,
        decided_by: input.actor,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
  const counts: Record<string, number> = {};
  for (const d of input.decisions) counts[d.action] = (counts[d.action] ?? 0) + 1;
  await auditor.append(trx, {
    actor: input.actor,
    action: 'request.decide',
    subjectId: input.subjectId,
    recordIds: input.decisions.map((d) => d.recordId),
    detail: { request: input.requestId, ...counts },
  });
}

export async function decisionsOf(ex: Executor, requestId: string): Promise<Selectable<RequestTables['rights_request_decision']>[]> {
  return ex.selectFrom('rights_request_decision').selectAll().where('request_id', '=', requestId).orderBy('decided_at').execute();
}

export type RecipientNoticeRow = Selectable<RequestTables['recipient_notice']>;

/** Art. 19 notices, one per recipient, with one audit event each (ids, the recipient key and the change only). */
export async function insertRecipientNotices(trx: Transaction<Tables>, auditor: Auditor, rows: readonly RecipientNoticeRow[], actor: string): Promise<void> {
  if (rows.length === 0) return;
  await trx
    .insertInto('recipient_notice')
    .values([...rows])
    .execute();
  await auditor.appendMany(
    trx,
    rows.map((r) => ({
      actor,
      action: 'request.recipient-notice' as const,
      subjectId: r.subject_id,
      recordIds: r.record_ids,
      detail: { request: r.request_id, notice: r.id, recipient: r.recipient, change: r.change, state: r.state },
    })),
  );
}

export async function noticesOfRequest(ex: Executor, requestId: string): Promise<RecipientNoticeRow[]> {
  return ex.selectFrom('recipient_notice').selectAll().where('request_id', '=', requestId).orderBy('created_at').orderBy('recipient').execute();
}

/** Staff record a notice done (the recipient confirmed) or impossible (with the reason). */
export async function completeRecipientNotice(
  trx: Transaction<Tables>,
  auditor: Auditor,
  done: { requestId: string; noticeId: string; state: 'done' | 'impossible'; reason: string | null; actor: string; now: Date },
): Promise<boolean> {
  const row = await trx
    .updateTable('recipient_notice')
    .set({ state: done.state, reason: done.reason, completed_at: done.now, completed_by: done.actor })
    .where('id', '=', done.noticeId)
    .where('request_id', '=', done.requestId)
    .where('state', 'in', ['to-send', 'sent'])
    .returning(['subject_id', 'recipient'])
    .executeTakeFirst();
  if (!row) return false;
  await auditor.append(trx, {
    actor: done.actor,
    action: 'request.recipient-notice',
    subjectId: row.subject_id,
    detail: { request: done.requestId, notice: done.noticeId, recipient: row.recipient, state: done.state },
  });
  return true;
}

/** Unconfirmed web requests whose link expired: closed as expired, the requester's details deleted; one event each. */
export async function expireUnconfirmedRequests(trx: Transaction<Tables>, auditor: Auditor, now: Date): Promise<number> {
  const rows = await trx
    .updateTable('rights_request')
    .set({
      status: 'expired',
      contact_email: null,
      contact_name: null,
      details: null,
      on_behalf: null,
      email_hash: null,
      confirm_token_hash: null,
      contact_purged_at: now,
      closed_at: now,
      closed_by: 'system:requests',
    })
    .where('status', '=', 'unconfirmed')
    .where('confirm_expires_at', '<', now)
    .returning('id')
    .execute();
  await auditor.appendMany(
    trx,
    rows.map((r) => ({ actor: 'system:requests', action: 'request.expire' as const, detail: { request: r.id } })),
  );
  return rows.length;
}

/** Closed requests past their evidence period: the requester's details deleted, the decisions and trail kept. */
export async function purgeRequestContacts(trx: Transaction<Tables>, auditor: Auditor, closedBefore: Date, now: Date): Promise<number> {
  const rows = await trx
    .updateTable('rights_request')
    .set({
      contact_email: null,
      contact_name: null,
      details: null,
      on_behalf: null,
      email_hash: null,
      verification: null,
      health_opinion: null,
      contact_purged_at: now,
    })
    .where('status', 'in', ['completed', 'refused', 'withdrawn', 'expired'])
    .where('closed_at', '<', closedBefore)
    .where('contact_purged_at', 'is', null)
    .returning('id')
    .execute();
  await auditor.appendMany(
    trx,
    rows.map((r) => ({ actor: 'system:requests', action: 'request.purge' as const, detail: { request: r.id } })),
  );
  return rows.length;
}

/** The daily reminder to staff, as the trail records it: counts only. */
export async function recordReminder(trx: Transaction<Tables>, auditor: Auditor, sent: { requests: number; overdue: number; staff: number }): Promise<void> {
  await auditor.append(trx, { actor: 'system:requests', action: 'request.remind', detail: sent });
}
