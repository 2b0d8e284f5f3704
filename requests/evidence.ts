// The evidence of how a request was handled (Art. 5(2) accountability): the request as it stands, what was decided for
// each record, when and by whom, the notices to recipients, the request's events in the audit trail with their
// chain positions and hashes, and the first signed checkpoint made after it closed, which covers those events: a
// verifier holding the published key can check that none of it was changed afterwards (`custodian audit verify`).
import type { AppContext } from '../app/app-context.ts';
import { eventsNamingRequest, firstCheckpointSince } from '../audit/audit-store.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { type RequestView, showRequest } from './request-service.ts';
import { decisionsOf, getRequest } from './requests-store.ts';

export interface RequestEvidence {
  readonly request: RequestView;
  readonly decisions: readonly { record: string; action: string; reason: string | null; at: string; by: string }[];
  readonly trail: readonly { partition: string; seq: number; id: string; at: string; actor: string; action: string; hash: string }[];
  /** The checkpoint that covers the trail above (null until one is made after closing: every minute with a witness). */
  readonly checkpoint: { seq: number; at: string; body: string; signature: string } | null;
}

export async function requestEvidence(deps: Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register' | 'mailer'>, id: string): Promise<RequestEvidence> {
  if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
  const row = await getRequest(deps.db.kysely, id.toLowerCase());
  if (!row) throw new CustodianError('not_found', 'no such request');
  const request = await showRequest(deps, row.id);
  const trail = await eventsNamingRequest(deps.db.kysely, row.id, new Date(row.received_at.getTime() - 60_000));
  const checkpoint = row.closed_at ? await firstCheckpointSince(deps.db.kysely, row.closed_at) : undefined;
  return {
    request,
    decisions: (await decisionsOf(deps.db.kysely, row.id)).map((d) => ({
      record: d.record_id,
      action: d.action,
      reason: d.reason,
      at: d.decided_at.toISOString(),
      by: d.decided_by,
    })),
    trail: trail.map((e) => ({ partition: e.partition, seq: Number(e.seq), id: e.id, at: e.at_text, actor: e.actor, action: e.action, hash: e.hash })),
    checkpoint: checkpoint
      ? { seq: Number(checkpoint.seq), at: checkpoint.at.toISOString(), body: checkpoint.body, signature: Buffer.from(checkpoint.signature).toString('hex') }
      : null,
  };
}
