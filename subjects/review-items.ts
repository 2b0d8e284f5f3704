// Staff deciding a "possibly the same person" item: the same person (the newer subject is merged into the one
// already known; pending, so it can be undone until confirmed) or two people (the item closes, nothing moves).
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { decideReviewItem, findReviewItem, lockReviewItem, openReviewItems, openReviewItemsOf, type ReviewItem } from './identity-store.ts';
import { mergeInTransaction, type MergeDeps } from './merge-subjects.ts';

export type { ReviewItem };

export function listOpenReviewItems(deps: Pick<AppContext, 'db'>, limit = 100): Promise<{ items: ReviewItem[]; total: number }> {
  return openReviewItems(deps.db.kysely, limit);
}

export async function decideSamePerson(
  deps: MergeDeps,
  input: { itemId: string; decision: 'same-person' | 'different-people'; actor: string },
): Promise<{ mergeId: string | null; into: string }> {
  if (!isUuid(input.itemId)) throw new CustodianError('bad_request', 'an item id must be a uuid');
  return deps.db.kysely.transaction().execute(async (trx) => {
    const item = await lockReviewItem(trx, { id: input.itemId.toLowerCase() });
    if (!item) throw new CustodianError('not_found', 'no such item');
    if (item.state !== 'open')
      throw new CustodianError('conflict', `this item was already decided (${item.state === 'merged' ? 'same person' : 'different people'})`);
    const now = deps.clock.now();
    if (input.decision === 'different-people') {
      await decideReviewItem(trx, deps.auditor, { item, state: 'rejected', mergeId: null, actor: input.actor, now });
      return { mergeId: null, into: item.candidateId };
    }
    const { mergeId } = await mergeInTransaction(trx, deps, { from: item.subjectId, into: item.candidateId, actor: input.actor });
    await decideReviewItem(trx, deps.auditor, { item, state: 'merged', mergeId, actor: input.actor, now });
    return { mergeId, into: item.candidateId };
  });
}

/** Open items that involve this person, on either side. */
export function openItemsAbout(deps: Pick<AppContext, 'db'>, subjectId: string): Promise<ReviewItem[]> {
  return openReviewItemsOf(deps.db.kysely, subjectId);
}

/** One item (any state), for the comparison page. */
export function reviewItem(deps: Pick<AppContext, 'db'>, itemId: string): Promise<ReviewItem | undefined> {
  return findReviewItem(deps.db.kysely, itemId);
}
