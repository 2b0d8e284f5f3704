// The only SQL for identity_review: "possibly the same person" items that collection opens (in its batch
// statement, with their audit events) and staff decide (here, audited in the same transaction).
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';

type Executor = Kysely<Tables>;

export interface NewReviewItem {
  readonly id: string;
  /** The newer subject. */
  readonly subjectId: string;
  /** Someone already known it may be. */
  readonly candidateId: string;
  readonly signals: readonly string[];
}

export function insertReviewItemsSql(items: readonly NewReviewItem[], now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO identity_review (id, subject_id, candidate_id, signals, opened_at)
    SELECT u.id, u.subject_id, u.candidate_id, u.signals::text[], ${now}::timestamptz
    FROM unnest(${items.map((i) => i.id)}::uuid[], ${items.map((i) => i.subjectId)}::uuid[], ${items.map((i) => i.candidateId)}::uuid[],
                ${items.map((i) => `{${i.signals.join(',')}}`)}::text[]) AS u(id, subject_id, candidate_id, signals)
    ON CONFLICT (subject_id, candidate_id) DO NOTHING`;
}

export interface ReviewItem {
  readonly id: string;
  readonly subjectId: string;
  readonly candidateId: string;
  readonly kind: string;
  readonly signals: string[];
  readonly state: 'open' | 'merged' | 'rejected';
  readonly openedAt: Date;
  readonly mergeId: string | null;
}

const columns = [
  'identity_review.id',
  'identity_review.subject_id',
  'identity_review.candidate_id',
  'identity_review.signals',
  'identity_review.state',
  'identity_review.opened_at',
  'identity_review.merge_id',
  'subject.kind',
] as const;

type ReviewRow = {
  id: string;
  subject_id: string;
  candidate_id: string;
  signals: string[];
  state: 'open' | 'merged' | 'rejected';
  opened_at: Date | string;
  merge_id: string | null;
  kind: string;
};

const toItem = (r: ReviewRow): ReviewItem => ({
  id: r.id,
  subjectId: r.subject_id,
  candidateId: r.candidate_id,
  kind: r.kind,
  signals: r.signals,
  state: r.state,
  openedAt: new Date(r.opened_at),
  mergeId: r.merge_id,
});

/** Items with the kind of their newer subject, in the shape the callers narrow. */
const items = (ex: Executor) => ex.selectFrom('identity_review').innerJoin('subject', 'subject.id', 'identity_review.subject_id').select(columns);

/** Open items, oldest first, and how many are open in all. */
export async function openReviewItems(ex: Executor, limit: number): Promise<{ items: ReviewItem[]; total: number }> {
  const [rows, count] = await Promise.all([
    items(ex).where('identity_review.state', '=', 'open').orderBy('identity_review.opened_at').orderBy('identity_review.id').limit(limit).execute(),
    ex
      .selectFrom('identity_review')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('state', '=', 'open')
      .executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toItem), total: Number(count.n) };
}

/** Open items that involve this person, on either side. */
export async function openReviewItemsOf(ex: Executor, subjectId: string): Promise<ReviewItem[]> {
  const rows = await items(ex)
    .where('identity_review.state', '=', 'open')
    .where((eb) => eb.or([eb('identity_review.subject_id', '=', subjectId), eb('identity_review.candidate_id', '=', subjectId)]))
    .orderBy('identity_review.opened_at')
    .execute();
  return rows.map(toItem);
}

/** One item, any state. */
export async function findReviewItem(ex: Executor, id: string): Promise<ReviewItem | undefined> {
  const row = await items(ex).where('identity_review.id', '=', id).executeTakeFirst();
  return row ? toItem(row) : undefined;
}

/** One item, by its id or by the merge that decided it, locked for a decision. */
export async function lockReviewItem(trx: Transaction<Tables>, by: { id: string } | { mergeId: string }): Promise<ReviewItem | undefined> {
  const row = await items(trx)
    .where('id' in by ? 'identity_review.id' : 'identity_review.merge_id', '=', 'id' in by ? by.id : by.mergeId)
    .forUpdate('identity_review')
    .executeTakeFirst();
  return row ? toItem(row) : undefined;
}

/** Staff decided an item: the same person (merged, by which merge) or two people. */
export async function decideReviewItem(
  trx: Transaction<Tables>,
  auditor: Auditor,
  decision: { item: ReviewItem; state: 'merged' | 'rejected'; mergeId: string | null; actor: string; now: Date },
): Promise<void> {
  const { item } = decision;
  await trx
    .updateTable('identity_review')
    .set({ state: decision.state, merge_id: decision.mergeId, decided_at: decision.now, decided_by: decision.actor })
    .where('id', '=', item.id)
    .execute();
  await auditor.append(trx, {
    actor: decision.actor,
    action: 'identity.review-decide',
    subjectId: item.subjectId,
    detail: {
      item: item.id,
      candidate: item.candidateId,
      decision: decision.state === 'merged' ? 'same-person' : 'different-people',
      ...(decision.mergeId ? { merge: decision.mergeId } : {}),
    },
  });
}
