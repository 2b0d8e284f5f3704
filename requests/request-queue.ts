// The queue staff work from: requests soonest due first, each with its flag (overdue, due soon, on time).
import { pausesOf, listRequests, subjectsOfRequest } from './requests-store.ts';
import { type RequestDeps, type RequestView, toView } from './request-service.ts';

export async function listRequestViews(deps: RequestDeps, which: 'open' | 'closed' | 'all'): Promise<RequestView[]> {
  const statuses =
    which === 'open' ? (['unconfirmed', 'open'] as const) : which === 'closed' ? (['completed', 'refused', 'withdrawn', 'expired'] as const) : [];
  const rows = await listRequests(deps.db.kysely, { statuses });
  return Promise.all(
    rows.map(async (row) =>
      toView(
        deps,
        row,
        await pausesOf(deps.db.kysely, row.id),
        (await subjectsOfRequest(deps.db.kysely, row.id)).map((s) => s.subject_id),
      ),
    ),
  );
}
