// What a caller may ask the mailer to send, checked before it is stored: one recipient that cannot be read as two
// (a comma or an angle bracket in an address would address someone else too), header lines that cannot be split
// into new ones, and none of the headers the mailer writes itself. Refusals name the part, never the value.
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';

/** What a message is. Extend by adding a code: it is stored, audited and shown to staff, never prose. */
const MAIL_KINDS = [
  'request-verification',
  'request-answer',
  'request-reminder',
  'recipient-notice',
  'newsletter-confirm',
  'newsletter',
  'consent-confirm',
] as const;

type MailKind = (typeof MAIL_KINDS)[number];

export interface OutgoingMail {
  readonly kind: MailKind;
  /** One address. */
  readonly to: string;
  readonly subjectLine: string;
  readonly text: string;
  readonly html?: string | null;
  /** Extra header lines, such as `List-Unsubscribe` and `List-Unsubscribe-Post`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Who the message is about (for access answers and erasure). */
  readonly subjectId?: string | null;
  /** The rights request it belongs to. */
  readonly requestId?: string | null;
  /** Who caused it, for the audit trail: `system:<job>`, `subject:<id>`, `staff:<id>`. */
  readonly actor: string;
}

/** One mailbox, ASCII local part (no SMTPUTF8), a dotted domain; nothing a header parser could split or quote. */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;
const HEADER_NAME = /^[A-Za-z][A-Za-z0-9-]{0,75}$/;
/** Written by the mailer from the message itself; a caller's value would contradict it. */
const RESERVED_HEADERS = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'return-path',
  'received',
  'dkim-signature',
]);
const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_BODY = 1_000_000;

export function isMailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value) && !CONTROL.test(value);
}

/** The message as it will be stored; throws `mail_invalid` naming what is wrong (never the value). */
export function checkOutgoingMail(mail: OutgoingMail): OutgoingMail {
  if (!(MAIL_KINDS as readonly string[]).includes(mail.kind)) refuse(`unknown mail kind ${JSON.stringify(String(mail.kind).slice(0, 40))}`);
  if (typeof mail.to !== 'string' || !isMailAddress(mail.to)) refuse('the recipient is not one plain email address');
  if (typeof mail.subjectLine !== 'string' || mail.subjectLine.trim() === '' || mail.subjectLine.length > 900 || CONTROL.test(mail.subjectLine))
    refuse('the subject line must be one line of text (at most 900 characters)');
  if (typeof mail.text !== 'string' || mail.text.trim() === '' || mail.text.length > MAX_BODY) refuse('the text body is empty or too long');
  if (mail.html != null && (typeof mail.html !== 'string' || mail.html.length > MAX_BODY)) refuse('the HTML body is too long');
  for (const [name, value] of Object.entries(mail.headers ?? {})) {
    if (!HEADER_NAME.test(name)) refuse('a header name is not a plain token');
    if (RESERVED_HEADERS.has(name.toLowerCase())) refuse(`the ${name} header is written by the mailer`);
    if (typeof value !== 'string' || value.length > 900 || CONTROL.test(value)) refuse(`the ${name} header must be one line (at most 900 characters)`);
  }
  if (mail.subjectId != null && !isUuid(mail.subjectId)) refuse('subjectId must be a uuid');
  if (mail.requestId != null && !isUuid(mail.requestId)) refuse('requestId must be a uuid');
  return mail;
}

function refuse(message: string): never {
  throw new CustodianError('mail_invalid', `a message could not be queued: ${message}`);
}
