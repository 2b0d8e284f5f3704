// Verifying partitions in parallel (PostgreSQL). Chains are independent, so each thread takes the next partition
// in order, on its own connection, inside the snapshot the calling transaction exported: every thread sees exactly
// the same trail, as one sequential pass would. The verdict is put together in partition order, so the first bad
// event reported is the same one a sequential pass would report, and partitions after it are not started.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { CustodianError } from '../../core/errors.ts';
import { exportSnapshot } from './chain-store.ts';
import type { VerifyAuditOptions, VerifyAuditResult, Verdict } from './verify-audit-chain.ts';

/** Request thread to verifier thread: verify this partition, or close. */
export type VerifyTask = { readonly index: number; readonly partition: string } | { readonly close: true };
/** Verifier thread to request thread. */
export type VerifyNews =
  | { readonly ready: true }
  | { readonly index: number; readonly progress: number }
  | { readonly index: number; readonly verdict: Verdict }
  | { readonly index: number; readonly error: string }
  | { readonly failed: string };

export async function verifyOnThreads(
  client: pg.ClientBase,
  postgres: { readonly url: string; readonly schema: string | undefined },
  partitions: readonly string[],
  threads: number,
  opts: VerifyAuditOptions,
): Promise<VerifyAuditResult> {
  const snapshot = await exportSnapshot(client);
  const keys = Array.isArray(opts.checkpointKey) ? [...opts.checkpointKey] : [opts.checkpointKey];
  const verdicts: (Verdict | undefined)[] = new Array(partitions.length);
  const counted = new Array<number>(partitions.length).fill(0);
  let next = 0;
  let started = 0;
  let firstBad = partitions.length;
  const report = (index: number) => {
    opts.onProgress?.({ partition: partitions[index]!, events: counted.reduce((a, b) => a + b, 0), partitions: started });
  };

  const run = async () => {
    const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), { workerData: { ...postgres, snapshot, keys } });
    const exited = once(worker, 'exit').catch(() => undefined);
    let current: { resolve: (v: Verdict) => void; reject: (e: Error) => void } | null = null;
    const failed = (e: Error) => {
      current?.reject(e);
      current = null;
    };
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (news: VerifyNews) => {
        if ('ready' in news) resolve();
        else if ('failed' in news) reject(new CustodianError('database_unavailable', `a verifier thread could not start: ${news.failed}`));
        else if ('progress' in news) {
          counted[news.index] = news.progress;
          report(news.index);
        } else if ('verdict' in news) current?.resolve(news.verdict);
        else failed(new Error(news.error));
      });
      worker.on('error', (e) => {
        reject(e);
        failed(e);
      });
      worker.on('exit', () => failed(new Error('a verifier thread stopped')));
    });
    try {
      await ready;
      while (next < firstBad) {
        const index = next++;
        started++;
        const verdict = await new Promise<Verdict>((resolve, reject) => {
          current = { resolve, reject };
          worker.postMessage({ index, partition: partitions[index]! } satisfies VerifyTask);
        });
        current = null;
        verdicts[index] = verdict;
        counted[index] = verdict.events;
        report(index);
        // A chain abandoned mid-stream leaves this thread's connection unusable: it stops here.
        if (verdict.bad) {
          firstBad = Math.min(firstBad, index);
          break;
        }
      }
    } catch (e) {
      next = partitions.length; // stop handing out work; the error is reported
      throw e;
    } finally {
      worker.postMessage({ close: true } satisfies VerifyTask);
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  await Promise.all(Array.from({ length: threads }, run));

  let events = 0;
  let seen = 0;
  for (const verdict of verdicts) {
    if (!verdict) break; // after the first bad partition: not started
    events += verdict.events;
    if (verdict.exists) seen++;
    if (verdict.bad) return { ok: false, events, partitions: seen, firstBad: verdict.bad };
  }
  opts.onProgress?.({ partition: partitions.at(-1)!, events, partitions: seen });
  return { ok: true, events, partitions: seen };
}
