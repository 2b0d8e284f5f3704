// Verifying the whole audit trail takes as long as the trail is long: the console runs it in the background, one run
// at a time, and the page shows its progress and then its verdict. A request never waits for it, so a verification
// started from the console cannot hold up anyone else's request.
import type { TrailVerdict } from '../audit/verify-trail.ts';
import type { Clock } from '../core/clock.ts';

export interface VerifyRun {
  readonly startedAt: Date;
  /** The staff actor who started it. */
  readonly by: string;
  /** Events verified so far. */
  readonly events: number;
  readonly result: TrailVerdict | null;
  /** The error code when the run itself failed (the database went away...). */
  readonly failed: string | null;
  readonly finishedAt: Date | null;
}

type Verify = (onProgress: (events: number) => void) => Promise<TrailVerdict>;

export class VerifyRuns {
  readonly #verify: Verify;
  readonly #clock: Clock;
  #run: { -readonly [K in keyof VerifyRun]: VerifyRun[K] } | null = null;

  constructor(verify: Verify, clock: Clock) {
    this.#verify = verify;
    this.#clock = clock;
  }

  /** The current run, or the last one finished; null before the first. */
  get current(): VerifyRun | null {
    return this.#run ? { ...this.#run } : null;
  }

  get running(): boolean {
    return this.#run !== null && this.#run.finishedAt === null;
  }

  /** Starts a run unless one is going; returns it. */
  start(by: string): VerifyRun {
    if (this.running) return this.current!;
    const run: { -readonly [K in keyof VerifyRun]: VerifyRun[K] } = {
      startedAt: this.#clock.now(),
      by,
      events: 0,
      result: null,
      failed: null,
      finishedAt: null,
    };
    this.#run = run;
    this.#verify((events) => {
      run.events = events;
    }).then(
      (result) => {
        run.result = result;
        run.events = result.chains.events;
        run.finishedAt = this.#clock.now();
      },
      (e: unknown) => {
        run.failed = (e as { code?: string }).code ?? 'internal';
        run.finishedAt = this.#clock.now();
      },
    );
    return this.current!;
  }
}
