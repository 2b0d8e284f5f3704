// The parts every service shares, built once: by the server's composition root (http/app.ts via cli/serve.ts) and by
// the command line (cli/cli-context.ts). Services take it, or a Pick of what they use; nothing reads a global.
import { Auditor } from '../audit/auditor.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { SubjectKeys } from '../crypto/subject-keys.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import type { Witness } from '../audit/witness.ts';
import { Mailer } from '../mail/mailer.ts';
import type { SmtpSettings } from '../mail/smtp-settings.ts';

export interface AppContext {
  readonly db: Db;
  /** The register in force: frozen, validated, fingerprinted. */
  readonly register: Register;
  readonly clock: Clock;
  /** Master keys: wrap per-subject data keys; the auditor derives its checkpoint keys from them. */
  readonly keyring: Keyring;
  /** Per-subject data keys and their in-memory cache. */
  readonly subjectKeys: SubjectKeys;
  /** The one audit writer, stamping every event with the register's fingerprint. */
  readonly auditor: Auditor;
  /** Outgoing mail: queued in the caller's transaction, delivered over SMTP, or held for staff when none is configured. */
  readonly mailer: Mailer;
  readonly log: Logger;
}

/** A command run without a register (`custodian keys`, `user`, `audit`): audit events then carry no fingerprint. */
export type CommandContext = Omit<AppContext, 'register'> & { readonly register: Register | null };

export interface AppContextParts<R extends Register | null> {
  readonly db: Db;
  readonly register: R;
  readonly clock: Clock;
  readonly keyring: Keyring;
  readonly log: Logger;
  /** Where signed checkpoints of the audit trail are kept outside the database (none in most tests). */
  readonly witness?: Witness | null;
  /** The SMTP server mail goes through; none: messages are held in the console outbox. */
  readonly smtp?: SmtpSettings | null;
  /** How long the content of sent mail is kept (ISO 8601 duration; default P30D). */
  readonly mailRetention?: string;
}

export function createAppContext(parts: AppContextParts<Register>): AppContext;
export function createAppContext(parts: AppContextParts<Register | null>): CommandContext;
export function createAppContext(parts: AppContextParts<Register | null>): CommandContext {
  const { witness, smtp, mailRetention, ...shared } = parts;
  const auditor = new Auditor({ clock: parts.clock, fingerprint: parts.register?.fingerprint ?? null, masterKeys: parts.keyring, witness: witness ?? null });
  return Object.freeze({
    ...shared,
    subjectKeys: new SubjectKeys(parts.keyring),
    auditor,
    mailer: new Mailer({ db: parts.db, auditor, clock: parts.clock, log: parts.log, register: parts.register, smtp: smtp ?? null, retention: mailRetention }),
  });
}
