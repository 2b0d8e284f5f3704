// The writer thread's side of writer-thread.ts: its own pool, the register it was started with, its own auditor and
// data-key cache over the master keys the request thread sends. Each batch is written exactly as on the request
// thread (writeBatchOutcomes), at the time the request thread gives.
import { parentPort, workerData } from 'node:worker_threads';
import { Auditor } from '../../audit/auditor.ts';
import { systemClock } from '../../core/clock.ts';
import { keyringOf } from '../../crypto/keyring.ts';
import { masterKey } from '../../crypto/master-key.ts';
import { SubjectKeys } from '../../crypto/subject-keys.ts';
import { connect } from '../../db/connect.ts';
import type { Register } from '../../register/load-register.ts';
import { writeBatchOutcomes, type WriterDeps } from './write-batch.ts';
import { sendError, type WriterFatal, type WriterReply, type WriterRequest } from './writer-thread.ts';

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
let deps: WriterDeps | undefined;
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
      // New keys (the first batch, or a rotation): a new auditor and key cache, so nothing checked under the old
      // keys is trusted under the new ones.
      const keyring = keyringOf(request.keys.masters.map((m) => masterKey(m.id, m.key)));
      deps = {
        db,
        register,
        clock: systemClock,
        subjectKeys: new SubjectKeys(keyring),
        auditor: new Auditor({ clock: systemClock, fingerprint: register.fingerprint, masterKeys: keyring }),
      };
    }
    if (!deps) throw new Error('the writer thread has no keys');
    const outcomes = await writeBatchOutcomes(deps, request.batch, new Date(request.now));
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
