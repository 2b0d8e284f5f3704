// The master key file `<dataDir>/master.key`: JSON `{ "active": id, "keys": [{ "id", "key": base64, "created" }] }`.
// Written only whole (temp file, fsync, rename) with mode 0600: a torn or world-readable key file would either
// lose every sealed value or hand them to anyone who can read the disk.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { CustodianError } from '../core/errors.ts';
import { decodeKey, encodeKey, masterKey, type MasterKey } from './master-key.ts';

const KEY_FILE_NAME = 'master.key';

interface KeyFileEntry {
  readonly master: MasterKey;
  /** ISO time the key was made; informational. */
  readonly created: string;
}

export interface KeyFile {
  readonly active: string;
  readonly keys: readonly KeyFileEntry[];
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE_NAME);
}

/** The parsed file, or null when there is none. */
export function readKeyFile(path: string): KeyFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CustodianError('master_key_invalid', `cannot read the master key file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseKeyFile(text, path);
}

function parseKeyFile(text: string, path: string): KeyFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text around the error, which here is key material.
    throw new CustodianError('master_key_invalid', `the master key file ${path} is not valid JSON`);
  }
  const bad = (what: string) => new CustodianError('master_key_invalid', `the master key file ${path} is not valid: ${what}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('expected an object with "active" and "keys"');
  const { active, keys } = doc as Record<string, unknown>;
  if (!Array.isArray(keys) || keys.length === 0) throw bad('"keys" must be a non-empty list');
  const entries = keys.map((raw: unknown, i): KeyFileEntry => {
    if (typeof raw !== 'object' || raw === null) throw bad(`keys[${i}] must be an object with "id" and "key"`);
    const { id, key, created } = raw as Record<string, unknown>;
    if (typeof id !== 'string') throw bad(`keys[${i}].id must be a string`);
    if (typeof key !== 'string') throw bad(`keys[${i}].key must be a base64 string`);
    if (created !== undefined && typeof created !== 'string') throw bad(`keys[${i}].created must be a string`);
    return { master: masterKey(id, decodeKey(key, `keys[${i}].key (id '${id}') in ${path}`)), created: created ?? '' };
  });
  const ids = entries.map((e) => e.master.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw bad(`key id '${dup}' appears twice`);
  if (typeof active !== 'string' || !ids.includes(active)) throw bad('"active" must be the id of one of the keys');
  return { active, keys: entries };
}

function serializeKeyFile(file: KeyFile): string {
  const keys = file.keys.map((e) => ({ id: e.master.id, key: encodeKey(e.master.key), created: e.created }));
  return `${JSON.stringify({ active: file.active, keys }, null, 2)}\n`;
}

/**
 * Writes the whole file atomically with mode 0600. `create` never replaces an existing file (two first starts at
 * once must not each make a key and clobber the other's) and returns false when one is already there.
 */
export function writeKeyFile(path: string, file: KeyFile, mode: 'create' | 'replace'): boolean {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // the umask can only remove bits, but make it explicit
    writeSync(fd, serializeKeyFile(file));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (mode === 'replace') renameSync(tmp, path);
    else if (!linkNoClobber(tmp, path)) return false;
    syncDir(dir);
    return true;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function linkNoClobber(from: string, to: string): boolean {
  try {
    linkSync(from, to); // atomic, and fails if `to` exists
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
  }
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL); // filesystems without hard links
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Makes the rename itself durable; not possible (nor needed) on every platform. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Cheap signature of the file on disk, to notice a rotation made by another process. */
export function keyFileStamp(path: string): string | null {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

/** A warning when others than the owner may read the file (POSIX only). */
export function looseModeWarning(path: string): string | null {
  if (process.platform === 'win32') return null;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) === 0) return null;
    return `the master key file ${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`;
  } catch {
    return null;
  }
}
