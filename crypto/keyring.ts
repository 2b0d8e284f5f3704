// The master keys this process holds, one of them active (new data keys are wrapped with it). They come from the
// environment (production: a secret manager fills CUSTODIAN_MASTER_KEY) or from `<dataDir>/master.key` (embedded
// use: made on first start). Rotation adds a key to the file; running servers pick it up without a restart, because
// a key file change is noticed within seconds and an unknown key id makes the keyring re-read its source once.
import { CustodianError } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { keyFilePath, keyFileStamp, looseModeWarning, readKeyFile, writeKeyFile, type KeyFile } from './key-file.ts';
import { decodeKey, envKeyId, generateMasterKey, isValidKeyId, masterKey, type MasterKey } from './master-key.ts';

export type { MasterKey } from './master-key.ts';

export const MASTER_KEY_ENV = 'CUSTODIAN_MASTER_KEY';
/** How often a file-backed keyring checks whether the file changed (a stat, not a read). */
export const KEYRING_RECHECK_MS = 5_000;

export type KeySource = { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'memory' };

/** For messages: where this keyring's keys come from. */
export function describeKeySource(source: KeySource): string {
  if (source.kind === 'file') return `the key file ${source.path}`;
  if (source.kind === 'env') return source.variable;
  return 'keys given in code';
}

export interface Keyring {
  readonly source: KeySource;
  /** The key to wrap new data keys with. */
  active(): MasterKey;
  get(id: string): MasterKey | undefined;
  ids(): readonly string[];
  /** Re-reads the source. Keys seen before are kept in memory: a reload never makes a wrapped key unreadable here. */
  reload(): void;
  /** The key with this id, re-reading the source once when it is not known; `master_key_unknown` if still absent. */
  resolve(id: string): MasterKey;
}

export interface LoadKeyringOptions {
  env: Readonly<Record<string, string | undefined>>;
  dataDir: string;
  /** On a first embedded start: make a key file when neither the env nor a file holds a key. */
  createIfMissing: boolean;
  log?: (line: string) => void;
  clock?: Clock;
  /** Interval of the file change check; 0 checks on every `active()` call. */
  recheckMs?: number;
}

interface Loaded {
  readonly active: string;
  readonly keys: readonly MasterKey[];
}

export function loadKeyring(options: LoadKeyringOptions): { keyring: Keyring; created: boolean } {
  const log = options.log ?? (() => {});
  const path = keyFilePath(options.dataDir);
  const envValue = options.env[MASTER_KEY_ENV];
  if (envValue !== undefined) {
    const read = () => parseEnvKeys(options.env[MASTER_KEY_ENV] ?? '', MASTER_KEY_ENV);
    const first = read();
    if (keyFileStamp(path) !== null) log(`master keys come from ${MASTER_KEY_ENV}; the key file ${path} is not used`);
    return { keyring: makeKeyring({ kind: 'env', variable: MASTER_KEY_ENV }, first, read, () => null, 0, log), created: false };
  }

  let created = false;
  let file = readKeyFile(path);
  if (file === null) {
    if (!options.createIfMissing) {
      throw new CustodianError(
        'master_key_missing',
        `no master key: set ${MASTER_KEY_ENV} (one key: \`openssl rand -base64 32\`) or provide the key file ${path}`,
      );
    }
    const now = (options.clock ?? systemClock).now();
    const key = generateMasterKey([], now);
    const fresh: KeyFile = { active: key.id, keys: [{ master: key, created: now.toISOString() }] };
    // Another process may have made the file first; then its key is the one to use.
    created = writeKeyFile(path, fresh, 'create');
    file = created ? fresh : readKeyFile(path);
    if (file === null) throw new CustodianError('master_key_missing', `the master key file ${path} vanished while it was being created`);
  }
  const warning = looseModeWarning(path);
  if (warning) log(warning);
  const fromFile = (f: KeyFile): Loaded => ({ active: f.active, keys: f.keys.map((e) => e.master) });
  const read = (): Loaded => {
    const again = readKeyFile(path);
    if (again === null) throw new CustodianError('master_key_missing', `the master key file ${path} has disappeared`);
    return fromFile(again);
  };
  const keyring = makeKeyring({ kind: 'file', path }, fromFile(file), read, () => keyFileStamp(path), options.recheckMs ?? KEYRING_RECHECK_MS, log);
  return { keyring, created };
}

/** A keyring over fixed keys (first = active), for tests and tools; `reload` has nothing to re-read. */
export function keyringOf(keys: readonly MasterKey[]): Keyring {
  const first = keys[0];
  if (first === undefined) throw new CustodianError('master_key_missing', 'a keyring needs at least one key');
  const loaded: Loaded = { active: first.id, keys };
  return makeKeyring(
    { kind: 'memory' },
    loaded,
    () => loaded,
    () => null,
    0,
    () => {},
  );
}

/**
 * `<base64>` (one key, id derived from it) or `id1:<base64>,id2:<base64>` (first = active). Refusals name the entry
 * by position and id, never by its value.
 */
function parseEnvKeys(value: string, variable: string): Loaded {
  const text = value.trim();
  if (text === '')
    throw new CustodianError('master_key_invalid', `${variable} is set but empty; unset it to use the key file, or give a key (\`openssl rand -base64 32\`)`);
  if (!text.includes(':')) {
    const key = decodeKey(text, variable);
    const id = envKeyId(key);
    return { active: id, keys: [masterKey(id, key)] };
  }
  const keys = text.split(',').map((part, i) => {
    const entry = part.trim();
    const colon = entry.indexOf(':');
    const where = `${variable} entry ${i + 1}`;
    if (colon < 0) throw new CustodianError('master_key_invalid', `${where} is not of the form id:base64 (entries are separated by commas)`);
    const id = entry.slice(0, colon).trim();
    if (!isValidKeyId(id))
      throw new CustodianError('master_key_invalid', `${where} has an id that is not valid: use letters, digits, '.', '_' or '-' (at most 64)`);
    return masterKey(id, decodeKey(entry.slice(colon + 1), `${where} (id '${id}')`));
  });
  const ids = keys.map((k) => k.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new CustodianError('master_key_invalid', `${variable} names key id '${dup}' twice`);
  return { active: ids[0] as string, keys };
}

function makeKeyring(
  source: KeySource,
  initial: Loaded,
  read: () => Loaded,
  stamp: () => string | null,
  recheckMs: number,
  log: (line: string) => void,
): Keyring {
  let byId = new Map(initial.keys.map((k) => [k.id, k]));
  let activeId = initial.active;
  let seenStamp = stamp();
  let checkedAt = Date.now();

  const apply = (next: Loaded) => {
    const merged = new Map(byId);
    for (const k of next.keys) merged.set(k.id, k);
    byId = merged;
    if (next.active !== activeId) log(`master key ${next.active} is now active (was ${activeId})`);
    activeId = next.active;
  };
  const reload = () => {
    const s = stamp();
    apply(read());
    seenStamp = s;
    checkedAt = Date.now();
  };
  // A stat every few seconds, so a server stops wrapping new data keys with a key that rotation has replaced.
  const recheck = () => {
    if (source.kind !== 'file' || Date.now() - checkedAt < recheckMs) return;
    checkedAt = Date.now();
    const s = stamp();
    if (s === seenStamp) return;
    try {
      reload();
    } catch (e) {
      // Keep serving with the keys we have; a broken file must not stop writes. The message holds no key material.
      log(`could not re-read the master key file: ${(e as Error).message}`);
    }
  };

  return {
    source,
    active() {
      recheck();
      return byId.get(activeId) as MasterKey;
    },
    get: (id) => byId.get(id),
    ids: () => [...byId.keys()],
    reload,
    resolve(id) {
      const known = byId.get(id);
      if (known) return known;
      reload();
      const found = byId.get(id);
      if (found) return found;
      throw new CustodianError(
        'master_key_unknown',
        `a subject data key is wrapped by master key '${id}', which ${describeKeySource(source)} does not hold (it has ${[...byId.keys()].join(', ')}); restore that key from your key backup`,
      );
    },
  };
}

/** The text to print, loudly, when a key file has just been made: without it every sealed value is lost. */
export function backupWarning(path: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!! A NEW MASTER KEY WAS CREATED: ${path}`,
    '!!',
    '!! Every special-category value Custodian stores is encrypted under this key.',
    '!! If this file is lost, ALL of that data is lost for good: nobody can recover it.',
    '!!',
    '!! Back it up NOW, somewhere safe, and NOT in the same backup as the database:',
    '!! a backup holding both the database and its key protects nothing if it leaks.',
    '!!',
    `!! For production, move the keys into the ${MASTER_KEY_ENV} environment variable`,
    '!! (from your secret manager) as  id:base64,id:base64  (active key first). This prints that value:',
    `!!   node -e "const f=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));` +
      `console.log(f.keys.sort((a,b)=>(b.id===f.active)-(a.id===f.active)).map(k=>k.id+':'+k.key).join(','))" ${path}`,
    '!! then remove the file from the server.',
    bar,
  ].join('\n');
}
