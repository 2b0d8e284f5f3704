// The trail vouches for the data: every record an event says was created must still be there unless an event says
// it was deleted, and every record there must have been created by an event. A record table truncated or rows
// deleted by hand, or rows slipped in behind the trail, are named by `custodian audit verify` and the console.
import type { Db } from '../db/connect.ts';
import { reconcileRecordTable } from './subjects-store.ts';

/** What is wrong with the record table as the trail sees it; empty when it matches. */
export async function reconcileRecords(db: Db): Promise<string[]> {
  const r = await reconcileRecordTable(db.kysely);
  const out: string[] = [];
  if (r.missing > 0) {
    out.push(
      `${r.missing} record${r.missing === 1 ? '' : 's'} the trail says were created and never deleted ${r.missing === 1 ? 'is' : 'are'} missing (the first: ${r.missingExample}): rows were deleted or the table emptied behind the trail`,
    );
  }
  if (r.unaccounted > 0) {
    out.push(
      `${r.unaccounted} record${r.unaccounted === 1 ? ' has' : 's have'} no event saying ${r.unaccounted === 1 ? 'it was' : 'they were'} created (the first: ${r.unaccountedExample}): rows were added behind the trail`,
    );
  }
  return out;
}
