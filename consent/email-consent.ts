// Email consent ticked on a public form counts only once confirmed from that mailbox, so nobody can sign someone
// else's address up. The form's tick is recorded as pending (subjects/collect/write-batch.ts), lapsing after the
// register's `service.email-consent.confirm-within`; the address the form gave is sent a signed, expiring link
// (signed-link.ts) through the mail outbox; the link opens a page whose Confirm button (opening it never confirms:
// mail scanners open links) records the consent as given by email-link. One address gets one mail per purpose and
// channel at a time, none when it is on the suppression list, and a link works once.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app/app-context.ts';
import { addDuration } from '../core/duration.ts';
import { isMailAddress } from '../mail/outgoing-mail.ts';
import type { Register } from '../register/load-register.ts';
import type { Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import { insertConfirmation, outstandingConfirmation, purgeLapsedConfirmations, takeConfirmation } from './confirmation-store.ts';
import { eventsOf, insertLedgerRows } from './consent-store.ts';
import { contactHash } from './marketing.ts';
import type { People } from './people.ts';
import { readLink, signLink } from './signed-link.ts';
import { linkLapses } from './confirm-page.ts';
import { isSuppressed } from './suppression-store.ts';

export type EmailConsentDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor' | 'mailer' | 'subjectKeys'>;

/** How long a confirmation link lasts when the register does not say. */
const DEFAULT_CONFIRM_WITHIN = 'P7D';

/** How long email consent ticked on a public form waits for its confirmation. */
export function confirmWithin(register: Register): string {
  return register.service['email-consent']?.['confirm-within'] ?? DEFAULT_CONFIRM_WITHIN;
}

/**
 * Whether a consent box ticked on a public form waits for confirmation from the mailbox: its purpose's email channel
 * is opt-in, and the box is for email (or for every channel of the purpose).
 */
export function needsMailboxConfirmation(register: Register, purpose: string, channel: string | null): boolean {
  return register.purposes[purpose]?.channels?.email === 'opt-in' && (channel === 'email' || channel === null);
}

/** A consent recorded as pending by a submission, as the collector hands it back. */
export interface PendingEmailConsent {
  readonly eventId: string;
  readonly purpose: string;
  readonly channel: string | null;
  /** When it lapses unconfirmed (ISO 8601): the link lasts as long. */
  readonly expiresAt: string;
}

/**
 * The confirmation mails of one submission's pending email consents, to the address the form gave, in one
 * transaction; returns how many were queued. Nothing is sent without an address, to an address on the suppression
 * list for email, or for a purpose and channel that address already has a link outstanding for.
 */
export async function sendConsentConfirmations(
  deps: EmailConsentDeps,
  input: {
    subjectId: string;
    point: string;
    email: string | undefined;
    pending: readonly PendingEmailConsent[];
    language: Language;
    publicUrl: string;
    actor: string;
  },
): Promise<number> {
  const { email } = input;
  if (email === undefined || input.pending.length === 0 || !isMailAddress(email)) return 0;
  const now = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const hash = await contactHash(deps, trx, 'email', email);
    if (await isSuppressed(trx, [hash], 'email')) return 0;
    const s = strings(input.language);
    const who = deps.register.controller.name;
    const form = pickText(deps.register.collection[input.point]?.title, input.language) ?? input.point;
    let queued = 0;
    for (const p of input.pending) {
      const confirmBy = new Date(p.expiresAt);
      const row = { eventId: p.eventId, subjectId: input.subjectId, purpose: p.purpose, channel: p.channel, addressHash: hash, sentAt: now, confirmBy };
      if (!(await insertConfirmation(trx, row))) continue;
      const token = await signLink(deps, trx, 'consent-confirm', p.eventId, confirmBy);
      const link = `${input.publicUrl}/consent/confirm?token=${token}&lang=${input.language}`;
      const purpose = pickText(deps.register.purposes[p.purpose]!.title, input.language);
      await deps.mailer.enqueue(trx, deps.auditor, {
        kind: 'consent-confirm',
        to: email,
        subjectId: input.subjectId,
        subjectLine: s.subject(who),
        text: s.text(form, purpose, link, confirmBy),
        actor: input.actor,
      });
      queued++;
    }
    return queued;
  });
}

/** The purpose a confirmation link is for, while it still works; null otherwise (not ours, used, or run out). */
export async function confirmationLink(deps: EmailConsentDeps, token: unknown): Promise<{ purpose: string } | null> {
  const id = await readLink(deps, 'consent-confirm', token);
  if (!id) return null;
  return (await outstandingConfirmation(deps.db.kysely, id, deps.clock.now())) ?? null;
}

/**
 * The Confirm button: the pending consent becomes given by email-link, audited, in one transaction; false when the
 * link is not ours, was used, has run out, or the consent is no longer pending (withdrawn, objected to, refused, or
 * the person erased since).
 */
export async function confirmEmailConsent(deps: EmailConsentDeps, people: People, token: unknown): Promise<boolean> {
  const id = await readLink(deps, 'consent-confirm', token);
  if (!id) return false;
  const now = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    // Taken: a second press, even at the same moment, finds nothing.
    const taken = await takeConfirmation(trx, id, now);
    if (!taken) return false;
    const holder = await people.holder(trx, taken.subjectId);
    if (holder === null) return false;
    const events = await eventsOf(trx, { subjectIds: await people.family(trx, holder) });
    const latest = events.filter((e) => e.purpose === taken.purpose && (e.channel === null || e.channel === taken.channel)).at(-1);
    if (latest?.id !== id || latest.state !== 'pending') return false;
    const lasts = deps.register.purposes[taken.purpose]?.['consent-lasts'];
    const receiptId = randomUUID();
    await insertLedgerRows(
      trx,
      deps.auditor,
      [
        {
          id: randomUUID(),
          receiptId,
          subjectId: holder,
          visitorId: null,
          purpose: taken.purpose,
          channel: taken.channel,
          state: 'given',
          method: 'email-link',
          point: latest.point,
          expiresAt: lasts ? addDuration(now, lasts) : null,
          language: null,
          context: `confirms:${id}`,
        },
      ],
      [
        {
          actor: `subject:${holder}`,
          action: 'consent.record',
          subjectId: holder,
          purpose: taken.purpose,
          detail: { receipt: receiptId, state: 'given', method: 'email-link', channel: taken.channel, confirms: id },
        },
      ],
      deps.register.fingerprint,
      now,
    );
    return true;
  });
}

/** Confirmations whose link ran out: deleted (the job runs it hourly); their consents have lapsed. */
export function purgeLapsedEmailConsents(deps: Pick<EmailConsentDeps, 'db' | 'auditor' | 'clock'>): Promise<number> {
  return deps.db.kysely.transaction().execute((trx) => purgeLapsedConfirmations(trx, deps.auditor, deps.clock.now()));
}

// ---- words ------------------------------------------------------------------------------------------------------

export function strings(lang: Language) {
  return lang === 'de'
    ? {
        lang,
        subject: (who: string) => `Bitte bestätigen Sie, dass ${who} Ihnen E-Mails senden darf`,
        text: (form: string, purpose: string, link: string, by: Date) =>
          `Guten Tag,\n\njemand – hoffentlich Sie – hat unser Formular „${form}“ mit dieser Adresse gesendet und angekreuzt, dass wir Ihnen dafür E-Mails senden dürfen: „${purpose}“.\n\nDas tun wir erst, wenn Sie es bestätigen. Öffnen Sie den Link und drücken Sie „Bestätigen“:\n\n${link}\n\nDer Link gilt bis zum ${linkLapses(by, 'de')}. Bestätigen Sie nicht, senden wir Ihnen diese E-Mails nicht. Waren Sie es nicht, können Sie diese Nachricht einfach ignorieren.\n`,
        title: 'E-Mails von uns bestätigen',
        intro: (who: string, purpose: string) =>
          `Drücken Sie „Bestätigen“, wenn ${who} Ihnen dafür E-Mails senden darf: „${purpose}“. Sie können Ihre Einwilligung jederzeit widerrufen.`,
        button: 'Bestätigen',
        confirmed: 'Danke – Ihre Einwilligung ist bestätigt.',
        badLink: 'Dieser Link funktioniert nicht (mehr): Er wurde schon verwendet oder ist abgelaufen.',
      }
    : {
        lang,
        subject: (who: string) => `Please confirm that ${who} may email you`,
        text: (form: string, purpose: string, link: string, by: Date) =>
          `Hello,\n\nsomeone, hopefully you, sent our form “${form}” with this address and ticked that we may email you for: “${purpose}”.\n\nWe will do so only once you confirm. Open the link and press Confirm:\n\n${link}\n\nThe link works until ${linkLapses(by, 'en')}. If you do not confirm, we will not send you these emails. If it was not you, simply ignore this message.\n`,
        title: 'Confirm our emails',
        intro: (who: string, purpose: string) => `Press Confirm if ${who} may email you for: “${purpose}”. You can withdraw your consent at any time.`,
        button: 'Confirm',
        confirmed: 'Thank you: your consent is confirmed.',
        badLink: 'This link does not work (any more): it was used already or has run out.',
      };
}
