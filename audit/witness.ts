// The witness: where signed checkpoints are kept outside the database, so that a database restored from an older
// copy, truncated or with a partition deleted is caught by comparing it with what was witnessed. By default an
// append-only file (one JSON line per checkpoint, written and fsynced before a checkpoint counts), meant to live on
// another volume or host than the database; optionally also an HTTPS endpoint that receives each checkpoint.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { CustodianError } from '../core/errors.ts';
import type { SignedCheckpoint } from './signed-checkpoint.ts';

export interface Witness {
  /** Where it is, for messages. */
  readonly where: string;
  append(entry: SignedCheckpoint): Promise<void>;
  /** Every checkpoint witnessed, oldest first; lines that are not checkpoints are skipped and counted. */
  read(): Promise<{ entries: SignedCheckpoint[]; unreadable: number }>;
}

export class FileWitness implements Witness {
  readonly where: string;
  readonly #path: string;
  // What was read so far: a checkpoint a minute makes a long file, so only what was appended since is read again.
  #read = { bytes: 0, entries: [] as SignedCheckpoint[], unreadable: 0, head: '' };

  constructor(path: string) {
    this.#path = path;
    this.where = `the witness file ${path}`;
  }

  async append(entry: SignedCheckpoint): Promise<void> {
    let fd: number;
    try {
      fd = openSync(this.#path, 'a', 0o600);
    } catch (e) {
      throw new CustodianError('internal', `cannot open ${this.where} to append to it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      writeSync(fd, `${JSON.stringify({ body: entry.body, sig: entry.sig })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  async read(): Promise<{ entries: SignedCheckpoint[]; unreadable: number }> {
    let data: Buffer;
    try {
      data = readFileSync(this.#path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unreadable: 0 };
      throw new CustodianError('internal', `cannot read ${this.where} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    // Reuse what was parsed only if the file still starts as it did (appended to, not replaced or cut).
    const known = this.#read;
    const extends_ = data.length >= known.bytes && data.subarray(0, Math.min(known.bytes, 4096)).toString('latin1') === known.head;
    const end = data.lastIndexOf(0x0a) + 1; // a line being written is read next time, whole
    if (!extends_ || end < known.bytes) this.#read = { bytes: 0, entries: [], unreadable: 0, head: '' };
    const fresh = parseLines(data.subarray(this.#read.bytes, end).toString('utf8'));
    this.#read = {
      bytes: end,
      entries: [...this.#read.entries, ...fresh.entries],
      unreadable: this.#read.unreadable + fresh.unreadable,
      head: data.subarray(0, Math.min(end, 4096)).toString('latin1'),
    };
    return { entries: this.#read.entries, unreadable: this.#read.unreadable };
  }
}

/** Also sends each checkpoint to an HTTPS endpoint (a timestamping or log service the business trusts). */
export class HttpWitness implements Witness {
  readonly where: string;
  readonly #url: string;
  readonly #file: Witness;

  constructor(url: string, file: Witness) {
    if (!/^https:\/\//.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url)) {
      throw new CustodianError('bad_request', 'the audit witness URL must be https (plain http only to this machine)');
    }
    this.#url = url;
    this.#file = file;
    this.where = `${file.where} and ${new URL(url).origin}`;
  }

  async append(entry: SignedCheckpoint): Promise<void> {
    await this.#file.append(entry);
    const res = await fetch(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry) }).catch((e: unknown) => {
      throw new CustodianError('internal', `the audit witness at ${new URL(this.#url).origin} could not be reached (${(e as Error).message})`);
    });
    if (!res.ok) throw new CustodianError('internal', `the audit witness at ${new URL(this.#url).origin} refused a checkpoint (${res.status})`);
  }

  read(): Promise<{ entries: SignedCheckpoint[]; unreadable: number }> {
    return this.#file.read();
  }
}

/** Checkpoints as JSON lines, or one JSON object (a checkpoint filed away by `custodian audit checkpoint`). */
export function parseLines(text: string): { entries: SignedCheckpoint[]; unreadable: number } {
  const entries: SignedCheckpoint[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as { body?: unknown; sig?: unknown };
      if (typeof e.body === 'string' && typeof e.sig === 'string') entries.push({ body: e.body, sig: e.sig });
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { entries, unreadable };
}
