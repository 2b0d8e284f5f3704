// Outgoing mail. A message is queued in the transaction of whatever caused it (a rights request, a newsletter
// sign-up), so it exists only if that committed; a job delivers due messages over SMTP (nodemailer) with retries,
// and the content of messages done with is cleared after the retention period. With no SMTP server configured,
// messages are 'held': the console's outbox (/console/outbox) is where staff read and send them by hand.
//
// Delivery is at least once: a process that dies between the server's acceptance and recording it leaves the message
// 'sending' until its lease runs out, and it is sent again with the same Message-ID (receivers may drop the copy).
// Nothing about a message (address, subject line, body, the server's reply text) is logged: ids and codes only.
import { randomUUID } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Auditor } from '../audit/auditor.ts';
import type { Clock } from '../core/clock.ts';
import { isDuration, isZeroDuration, subtractDuration } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import {
  claimDueMail,
  eraseMailOfSubject,
  insertMail,
  listOutbox,
  markMailSentByHand,
  purgeMailContent,
  readMailMessage,
  recordMailFailure,
  recordMailSent,
  requeueMail,
  type MailRow,
  type OutboxEntry,
} from './mail-store.ts';
import { checkOutgoingMail, isMailAddress, type OutgoingMail } from './outgoing-mail.ts';
import { parseSmtpUrl, type ParsedSmtpUrl, type SmtpSettings } from './smtp-settings.ts';

/** How long the content of a message is kept once it was sent (or failed, or was held and never sent). */
const DEFAULT_MAIL_RETENTION = 'P30D';
/** The wait after each failed attempt; after the last, the message has failed. Five attempts over about 2.5 hours. */
const RETRY_AFTER_MINUTES = [1, 5, 30, 120];
/** An attempt not recorded by then is presumed dead (its process stopped) and the message is due again. */
const LEASE_MS = 10 * 60_000;
/** Messages one flush sends at most; the rest wait for the next. */
const FLUSH_LIMIT = 50;
/** After a message is queued (and, most likely, its transaction committed), a flush, so it need not wait for the job. */
const FLUSH_AFTER_QUEUE_MS = 1000;
const SYSTEM_ACTOR = 'system:mail';

export interface MailerOptions {
  readonly db: Db;
  readonly auditor: Auditor;
  readonly clock: Clock;
  readonly log: Logger;
  /** The controller: its name signs every message; its email (else its DPO's) is the default From address. */
  readonly register: Register | null;
  /** The SMTP server; none: every message is held for staff. */
  readonly smtp: SmtpSettings | null;
  /** How long the content of a message done with is kept (ISO 8601 duration; default P30D). */
  readonly retention?: string | undefined;
  /** A flush this long after a message is queued (default 1 s); null: only the job's flushes. */
  readonly flushAfterQueueMs?: number | null;
}

export class Mailer {
  readonly #db: Db;
  readonly #auditor: Auditor;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #senderName: string | null;
  readonly #from: string;
  readonly #smtp: ParsedSmtpUrl | null;
  readonly #retention: string;
  readonly #flushAfterQueueMs: number | null;
  #transport: Promise<Transporter> | null = null;
  #flushing: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /** Throws `mail_config_invalid` for an SMTP URL or From address that cannot work (never echoing the URL). */
  constructor(options: MailerOptions) {
    this.#db = options.db;
    this.#auditor = options.auditor;
    this.#clock = options.clock;
    this.#log = options.log;
    const controller = options.register?.controller;
    this.#senderName = controller?.name ?? null;
    this.#smtp = options.smtp ? parseSmtpUrl(options.smtp.url) : null;
    const from = options.smtp?.from ?? controller?.email ?? controller?.dpo?.email ?? '';
    if (from !== '' && !isMailAddress(from)) throw new CustodianError('mail_config_invalid', 'the From address (--mail-from) is not one plain email address');
    if (this.#smtp && from === '')
      throw new CustodianError('mail_config_invalid', 'mail has no From address: give --mail-from, or an email for the controller in the register');
    this.#from = from;
    this.#retention = options.retention ?? DEFAULT_MAIL_RETENTION;
    if (!isDuration(this.#retention) || isZeroDuration(this.#retention))
      throw new CustodianError('mail_config_invalid', 'the mail retention period must be an ISO 8601 duration such as P30D');
    this.#flushAfterQueueMs = options.flushAfterQueueMs === undefined ? FLUSH_AFTER_QUEUE_MS : options.flushAfterQueueMs;
  }

  /** Whether an SMTP server is configured (else messages are held for staff). */
  get configured(): boolean {
    return this.#smtp !== null;
  }

  /** One line for the server's start-up output: where mail goes, the password replaced. */
  describe(): string {
    return this.#smtp
      ? `mail goes through ${this.#smtp.redacted} from ${this.#from}`
      : 'no SMTP server is configured: outgoing mail is held in the console outbox (/console/outbox) for staff to send';
  }

  /**
   * Queues a message in the caller's transaction, with its audit event (ids and the kind only): it exists only if
   * the caller commits. Returns its id. Throws `mail_invalid` for an address or header that cannot be sent safely.
   */
  async enqueue(trx: Db['kysely'], auditor: Auditor, mail: OutgoingMail): Promise<string> {
    const m = checkOutgoingMail(mail);
    const id = randomUUID();
    await insertMail(trx, auditor, {
      id,
      kind: m.kind,
      subjectId: m.subjectId?.toLowerCase() ?? null,
      requestId: m.requestId?.toLowerCase() ?? null,
      to: m.to,
      from: this.#from,
      subjectLine: m.subjectLine,
      text: m.text,
      html: m.html ?? null,
      headers: { ...m.headers },
      state: this.#smtp ? 'queued' : 'held',
      now: this.#clock.now(),
      actor: m.actor,
    });
    if (this.#flushAfterQueueMs !== null) this.#flushSoon(this.#flushAfterQueueMs);
    return id;
  }

  /**
   * Delivers the messages that are due, one attempt each; returns how many were sent. Flushes in this process run one
   * after another; other processes take other messages (FOR UPDATE SKIP LOCKED).
   */
  flush(): Promise<number> {
    const run = this.#flushing.then(() => this.#deliverDue());
    this.#flushing = run.catch(() => {});
    return run.catch((e: unknown) => {
      throw new CustodianError('internal', `mail delivery stopped (${codeOf(e)})`);
    });
  }

  /** Erasure: clears the content of every message about the person, in the caller's transaction; returns how many. */
  eraseMailOf(trx: Db['kysely'], subjectId: string, actor = 'system:erasure'): Promise<number> {
    return eraseMailOfSubject(trx, this.#auditor, { subjectId: subjectId.toLowerCase(), actor, now: this.#clock.now() });
  }

  /** Retention: clears the content of messages done with more than the retention period before `now`; returns how many. */
  purgeSent(now: Date = this.#clock.now()): Promise<number> {
    return purgeMailContent(this.#db.kysely, this.#auditor, subtractDuration(now, this.#retention), now).catch((e: unknown) => {
      throw new CustodianError('internal', `clearing old mail stopped (${codeOf(e)})`);
    });
  }

  /** The outbox, newest first, without content. */
  outbox(page: { before?: string; limit: number }): Promise<OutboxEntry[]> {
    return listOutbox(this.#db.kysely, page);
  }

  /** One message with its content, for staff; the opening is audited. */
  async open(id: string, actor: string): Promise<MailRow> {
    const row = await readMailMessage(this.#db.kysely, this.#auditor, id, actor);
    if (!row) throw new CustodianError('not_found', 'no such message');
    return row;
  }

  /** Staff sent a held or failed message themselves. */
  async markSentByHand(id: string, actor: string): Promise<void> {
    if (!(await markMailSentByHand(this.#db.kysely, this.#auditor, { id, actor, now: this.#clock.now() })))
      throw new CustodianError('conflict', 'only a held or failed message whose content is kept can be marked as sent');
  }

  /** Another round of attempts for a failed message (or a held one, once an SMTP server is configured). */
  async retry(id: string, actor: string): Promise<void> {
    if (!this.#smtp) throw new CustodianError('conflict', 'no SMTP server is configured: send the message by hand and mark it as sent');
    if (!(await requeueMail(this.#db.kysely, this.#auditor, { id, from: ['failed', 'held'], actor, now: this.#clock.now() })))
      throw new CustodianError('conflict', 'only a failed or held message whose content is kept can be sent again');
    this.#flushSoon(0);
  }

  /** Stops the flush timer, waits for a flush under way and closes the SMTP connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#flushing;
    if (this.#transport) (await this.#transport).close();
  }

  #flushSoon(ms: number): void {
    if (!this.#smtp || this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().catch((e: unknown) => this.#log.warn(`mail: flush failed (${codeOf(e)})`));
    }, ms);
    this.#timer.unref();
  }

  async #deliverDue(): Promise<number> {
    if (!this.#smtp) return 0;
    let sent = 0;
    for (let i = 0; i < FLUSH_LIMIT; i++) {
      const now = this.#clock.now();
      const row = await claimDueMail(this.#db.kysely, now, new Date(now.getTime() + LEASE_MS));
      if (!row) break;
      if (await this.#attempt(row)) sent++;
    }
    return sent;
  }

  async #attempt(row: MailRow): Promise<boolean> {
    const transport = await (this.#transport ??= this.#createTransport(this.#smtp!));
    const messageId = `<${row.id}@${row.from_address.split('@')[1] ?? 'custodian.invalid'}>`;
    try {
      await transport.sendMail({
        from: this.#senderName ? { name: this.#senderName, address: row.from_address } : row.from_address,
        to: { name: '', address: row.to_address },
        // The envelope given, not derived: an address is never re-parsed into more recipients.
        envelope: { from: row.from_address, to: [row.to_address] },
        subject: row.subject_line,
        text: row.body_text,
        ...(row.body_html ? { html: row.body_html } : {}),
        headers: row.headers,
        messageId,
        date: this.#clock.now(),
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (e) {
      const { code, reply } = failureOf(e);
      const now = this.#clock.now();
      const wait = RETRY_AFTER_MINUTES[row.attempts - 1];
      const retryAt = wait === undefined ? null : new Date(now.getTime() + wait * 60_000);
      await recordMailFailure(this.#db.kysely, this.#auditor, { id: row.id, code, reply, retryAt, now, actor: SYSTEM_ACTOR });
      const why = reply ? `${code} ${reply}` : code;
      this.#log.warn(
        retryAt
          ? `mail ${row.id}: attempt ${row.attempts} failed (${why}); next attempt at ${retryAt.toISOString()}`
          : `mail ${row.id}: failed after ${row.attempts} attempts (${why})`,
      );
      return false;
    }
    await recordMailSent(this.#db.kysely, this.#auditor, { id: row.id, messageId, now: this.#clock.now(), actor: SYSTEM_ACTOR });
    return true;
  }

  async #createTransport(smtp: ParsedSmtpUrl): Promise<Transporter> {
    // Loaded on first use: commands that never send mail do not pay for it.
    const nodemailer = await import('nodemailer');
    return nodemailer.createTransport({ ...smtp.transport, logger: false, debug: false });
  }
}

/** What a delivery failure is, as codes: nodemailer's error code and the SMTP reply code, never the reply's text. */
function failureOf(e: unknown): { code: string; reply: number | null } {
  const err = e as { code?: unknown; responseCode?: unknown };
  const reply = typeof err.responseCode === 'number' && Number.isInteger(err.responseCode) && err.responseCode >= 200 && err.responseCode < 600;
  return { code: codeOf(e), reply: reply ? (err.responseCode as number) : null };
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/.test(code) ? code : 'ERROR';
}
