// One process per embedded database folder. PGlite is PostgreSQL compiled into this process: two processes on one
// folder each believe they own its files, and acknowledged writes are lost. Whoever opens the folder first holds a
// lock (proper-lockfile: an atomic mkdir, kept fresh while held); anyone else is refused, told who holds it. A lock
// left by a process that died (kill -9, power cut) is taken over at once when its holder, on this host, is gone;
// otherwise once it has not been refreshed for a minute (a busy event loop must never make a live holder look dead).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CustodianError } from '../core/errors.ts';

/** A holder that stopped refreshing the lock this long ago has crashed: its lock is taken over. */
const STALE_MS = 60_000;

interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** What holds it: `custodian serve`, `custodian user add`... */
  readonly command: string;
  readonly since: string;
}

/** Holds the folder's lock, or throws `database_in_use` naming the process that holds it. Returns the release. */
export async function lockFolder(dir: string, command: string): Promise<() => Promise<void>> {
  const path = join(dir, 'custodian.lock');
  const ownerFile = join(dir, 'custodian.lock.json');
  const options = {
    lockfilePath: path,
    realpath: false,
    stale: STALE_MS,
    // The lock can only be lost if the folder's file system stops answering; stop writing rather than risk it.
    onCompromised: (e: Error) => {
      process.stderr.write(`custodian: lost the lock on ${dir} (${e.message}); stopping so that no write is lost\n`);
      process.exit(1);
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, options);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    const holder = readHolder(ownerFile);
    if (!holder || holder.host !== hostname() || isAlive(holder.pid)) throw new CustodianError('database_in_use', inUseMessage(dir, holder));
    // Its holder on this host is gone: the lock is left over from a crash.
    rmSync(path, { recursive: true, force: true });
    release = await lockfile.lock(dir, options).catch((again: NodeJS.ErrnoException) => {
      throw again.code === 'ELOCKED' ? new CustodianError('database_in_use', inUseMessage(dir, readHolder(ownerFile))) : again;
    });
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  writeFileSync(ownerFile, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  return async () => {
    rmSync(ownerFile, { force: true });
    await release();
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

function inUseMessage(dir: string, holder: LockHolder | null): string {
  const who = holder
    ? `\`${holder.command}\` (process ${holder.pid} on ${holder.host}, since ${holder.since.slice(0, 19).replace('T', ' ')} UTC)`
    : 'another process';
  const hint = holder?.command.startsWith('custodian serve') ? 'Stop the server first, or make the change in the console' : 'Wait for it to finish, or stop it';
  return `the embedded database in ${dir} is in use by ${who}: one process at a time may open it. ${hint}; nothing was changed.`;
}
