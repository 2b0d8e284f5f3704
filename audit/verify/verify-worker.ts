// One verifier thread of verify-threads.ts: its own connection, in the snapshot it was given, one partition at a
// time with the same code a sequential pass runs (copySource, verifyPartition).
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { copySource, joinSnapshot, leaveSnapshot } from './chain-store.ts';
import { verifyPartition } from './verify-audit-chain.ts';
import type { VerifyNews, VerifyTask } from './verify-threads.ts';

const { url, schema, snapshot, keys } = workerData as { url: string; schema: string | undefined; snapshot: string; keys: Uint8Array[] };
const port = parentPort!;
const say = (news: VerifyNews) => port.postMessage(news);
const client = new pg.Client({ connectionString: url, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
let broken = false;

try {
  await client.connect();
  await joinSnapshot(client, snapshot);
  say({ ready: true });
} catch (e) {
  say({ failed: (e as Error).message });
  broken = true;
}

const source = copySource(client, () => {
  broken = true;
});
let queue = Promise.resolve();
port.on('message', (task: VerifyTask) => {
  queue = queue.then(() => handle(task));
});

async function handle(task: VerifyTask): Promise<void> {
  if ('close' in task) {
    if (!broken) await leaveSnapshot(client).catch(() => undefined);
    await client.end().catch(() => undefined);
    port.close();
    return;
  }
  const { index, partition } = task;
  try {
    const verdict = await verifyPartition(source, partition, { checkpointKey: keys, onProgress: (p) => say({ index, progress: p.events }) }, 0, 0);
    say({ index, verdict });
  } catch (e) {
    say({ index, error: (e as Error).message });
  }
}
