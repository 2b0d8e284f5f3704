// After a master-key rotation, the audit heads are re-signed with the new key so that retiring the old master
// key does not leave heads nobody can verify. A head whose signature does not verify with any current key is
// NOT re-signed: that would launder tampering. It is reported instead.
import { sql, type Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import { checkpointMac, checkpointMatches } from './checkpoint.ts';

/** `keys[0]` is the checkpoint key of the new active master key; the rest are the older ones still held. */
export async function resignAuditHeads(db: Kysely<Tables>, keys: readonly Uint8Array[]): Promise<{ resigned: number; refused: string[] }> {
  const [active] = keys;
  if (!active) return { resigned: 0, refused: [] };
  return db.transaction().execute(async (trx) => {
    const heads = await sql<{ partition: string; seq: string; hash: string; checkpoint: string }>`
      SELECT partition, seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint
      FROM audit_head ORDER BY partition FOR UPDATE`.execute(trx);
    let resigned = 0;
    const refused: string[] = [];
    for (const h of heads.rows) {
      const seq = Number(h.seq);
      if (checkpointMatches(active, h.partition, seq, h.hash, h.checkpoint)) continue;
      if (!keys.slice(1).some((k) => checkpointMatches(k, h.partition, seq, h.hash, h.checkpoint))) {
        refused.push(h.partition);
        continue;
      }
      const mac = checkpointMac(active, h.partition, seq, h.hash);
      await trx.updateTable('audit_head').set({ checkpoint: mac }).where('partition', '=', h.partition).execute();
      resigned++;
    }
    return { resigned, refused };
  });
}
