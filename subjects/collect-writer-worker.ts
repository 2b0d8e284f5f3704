// The writer thread's side of collect-writer-thread.ts: its own pool, the register it was started with, and the
// keys the request thread sends. Each batch is written exactly as on the request thread (writeBatchOutcomes).
import { parentPort, workerData } from 'node:worker_threads';
import { keyringOf, type Keyring } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import { connect } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { writeBatchOutcomes } from './collect-service.ts';
import { sendError, type WriterFatal, type WriterReply, type WriterRequest } from './collect-writer-thread.ts';

const { url, schema, poolSize, register } = workerData as { url: string; schema: string | undefined; poolSize: number; register: Register };
const port = parentPort!;
// A database it cannot reach is said once, coded, and the thread ends: the next batch starts a new one.
let db: Awaited<ReturnType<typeof connect>>;
try {
  db = await connect({ url, schema, poolSize });
} catch (e) {
  port.postMessage({ fatal: sendError(e) } satisfies WriterFatal);
  process.exit(1);
}
let keyring: Keyring | undefined;
let checkpointKeys: readonly Uint8Array[] = [];
let inFlight = 0;
let closing = false;

port.on('message', (message: WriterRequest | { close: true }) => {
  if ('close' in message) {
    closing = true;
    void finish();
    return;
  }
  void handle(message);
});

async function handle(request: WriterRequest): Promise<void> {
  inFlight++;
  let reply: WriterReply;
  try {
    if (request.keys) {
      keyring = keyringOf(request.keys.masters.map((m) => masterKey(m.id, m.key)));
      checkpointKeys = request.keys.checkpoint;
    }
    if (!keyring) throw new Error('the writer thread has no keys');
    const now = new Date(request.now);
    const outcomes = await writeBatchOutcomes({ db, register, clock: { now: () => new Date(now) }, keyring, checkpointKeys }, request.batch);
    reply = { id: request.id, outcomes: outcomes.map((o) => (o.ok ? o : { ok: false, error: sendError(o.error) })) };
  } catch (e) {
    reply = { id: request.id, failure: sendError(e) };
  }
  port.postMessage(reply);
  inFlight--;
  void finish();
}

async function finish(): Promise<void> {
  if (!closing || inFlight > 0) return;
  closing = false;
  await db.close();
  port.close();
}
