// How many new visitor sessions one network may open in a while. A session row is made the first time a form comes
// back with a draft to keep; without a cap, a script posting refused forms without a cookie could fill the table
// until the purge job catches up. Networks, not addresses (IPv4 /24, IPv6 /48), so rotating addresses within one
// allocation does not escape it. Kept in memory: a restart forgets it, and the rows it guards expire on their own.
import { truncateIp } from '../core/client-info.ts';

export interface NewSessionLimitOptions {
  /** New sessions allowed per network in each window. */
  readonly max: number;
  readonly windowMs: number;
  /** Networks remembered at once; the oldest windows are dropped first. */
  readonly networks?: number;
}

export class NewSessionLimit {
  readonly #options: Required<NewSessionLimitOptions>;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(options: NewSessionLimitOptions) {
    this.#options = { networks: 10_000, ...options };
  }

  /** Whether a client at `ip` may open one more session now; counts it when it may. */
  allow(ip: string | undefined, now: Date): boolean {
    const network = truncateIp(ip) ?? 'unknown';
    const t = now.getTime();
    let w = this.#windows.get(network);
    if (w && t - w.start >= this.#options.windowMs) {
      this.#windows.delete(network);
      w = undefined;
    }
    if (!w) {
      if (this.#windows.size >= this.#options.networks) this.#windows.delete(this.#windows.keys().next().value!);
      w = { start: t, count: 0 };
      this.#windows.set(network, w);
    }
    if (w.count >= this.#options.max) return false;
    w.count++;
    return true;
  }
}
