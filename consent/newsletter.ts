// The newsletter with double opt-in (register `service.newsletter`). A sign-up is stored as pending and a signed,
// expiring confirmation link is emailed; the link opens a page whose Confirm button confirms (opening it never does:
// mail scanners open links). Only then does the consent count (ledger: pending, then given by email-link). A sign-up
// never confirmed is deleted when its link runs out. Every issue carries an unsubscribe link and the RFC 8058
// List-Unsubscribe and List-Unsubscribe-Post headers; unsubscribing deletes the sign-up and its address, records the
// withdrawal, and puts the address's keyed hash on the suppression list, which is all that remains.
//
// The subscriber's ledger id is `nl_<subscription id>`: the proof of consent stays after the address is gone.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app/app-context.ts';
import { addDuration } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { isMailAddress } from '../mail/outgoing-mail.ts';
import type { Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import { insertLedgerRows, type LedgerRow } from './consent-store.ts';
import { contactHash, suppressHashes } from './marketing.ts';
import {
  confirmedSubscribers,
  confirmSubscriber,
  deleteSubscriber,
  insertSubscriber,
  purgeUnconfirmedSubscribers,
  subscriberByEmail,
  subscriberById,
} from './newsletter-store.ts';
import { readLink, signLink } from './signed-link.ts';
import { linkLapses } from './confirm-page.ts';
import { isSuppressed } from './suppression-store.ts';

export type NewsletterDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor' | 'mailer' | 'subjectKeys'>;

const ledgerId = (id: string) => `nl_${id}`;

interface NewsletterSetup {
  readonly point: string;
  readonly purpose: string;
  readonly confirmWithin: string;
  readonly interests: readonly string[];
}

/** The register's newsletter, or not_found when it declares none. */
export function newsletterOf(deps: Pick<NewsletterDeps, 'register'>): NewsletterSetup {
  const n = deps.register.service.newsletter;
  const point = n ? deps.register.collection[n.point] : undefined;
  const consent = point ? Object.values(point.fields).find((f) => f.consent && f.channel === 'email') : undefined;
  if (!n || !point || !consent?.consent) throw new CustodianError('not_found', 'this site has no newsletter');
  const choices = Object.values(point.fields).find((f) => f.type === 'choice')?.choices ?? [];
  return { point: n.point, purpose: consent.consent, confirmWithin: n['confirm-within'], interests: choices };
}

// ---- sign-up, confirmation, unsubscribing -----------------------------------------------------------------------

const ledgerRow = (id: string, purpose: string, state: LedgerRow['state'], method: LedgerRow['method'], language: string): LedgerRow => ({
  id: randomUUID(),
  receiptId: randomUUID(),
  subjectId: null,
  visitorId: ledgerId(id),
  purpose,
  channel: 'email',
  state,
  method,
  point: null,
  expiresAt: null,
  language,
  context: null,
});

/**
 * A sign-up: a pending subscription and its confirmation mail, in one transaction. The answer is the same whatever
 * happened (new: the link sent; already pending, subscribed or suppressed: nothing sent), so it never
 * tells anyone whether an address is known.
 */
export async function subscribe(
  deps: NewsletterDeps,
  input: { email: string; language: Language; interests: readonly string[]; publicUrl: string },
): Promise<void> {
  const setup = newsletterOf(deps);
  // Normalised as subjects/ stores an email identifier (NFKC, trimmed, lower-case), so their keyed hashes match.
  const email = input.email.normalize('NFKC').trim().toLowerCase();
  if (!isMailAddress(email))
    throw new CustodianError('invalid_body', 'the email address is not valid', { problems: [{ field: 'email', problem: 'is not an email address' }] });
  const bad = input.interests.filter((i) => !setup.interests.includes(i));
  if (bad.length > 0)
    throw new CustodianError('invalid_body', 'unknown interests', {
      problems: [{ field: 'interests', problem: `must be among: ${setup.interests.join(', ')}` }],
    });
  const now = deps.clock.now();
  await deps.db.kysely.transaction().execute(async (trx) => {
    if (await isSuppressed(trx, [await contactHash(deps, trx, 'email', email)], 'email')) return;
    // One confirmation mail per sign-up: asking again while one is pending sends nothing, so nobody can flood a
    // mailbox by signing it up over and over (the first link works until it runs out; then the sign-up is purged).
    if (await subscriberByEmail(trx, email)) return;
    const id = randomUUID();
    const confirmBy = addDuration(now, setup.confirmWithin);
    const added = await insertSubscriber(trx, deps.auditor, {
      id,
      email,
      language: input.language,
      interests: [...input.interests],
      now,
      confirmBy,
      fingerprint: deps.register.fingerprint,
      actor: 'public:newsletter',
    });
    if (!added) return;
    const row = ledgerRow(id, setup.purpose, 'pending', 'form', input.language);
    await insertLedgerRows(
      trx,
      deps.auditor,
      [{ ...row, point: setup.point }],
      [{ actor: 'public:newsletter', action: 'consent.record', purpose: setup.purpose, detail: { receipt: row.receiptId, state: 'pending' } }],
      deps.register.fingerprint,
      now,
    );
    const link = `${input.publicUrl}/newsletter/confirm?token=${await signLink(deps, trx, 'confirm', id, confirmBy)}`;
    const s = strings(input.language);
    await deps.mailer.enqueue(trx, deps.auditor, {
      kind: 'newsletter-confirm',
      to: email,
      subjectLine: s.confirmSubject(deps.register.controller.name),
      text: s.confirmText(deps.register.controller.name, link, confirmBy),
      actor: 'public:newsletter',
    });
  });
}

/** The Confirm button: the sign-up becomes a subscription; false when the link is unknown, used or expired. */
export async function confirm(deps: NewsletterDeps, token: unknown): Promise<boolean> {
  const id = await readLink(deps, 'confirm', token);
  if (!id) return false;
  const setup = newsletterOf(deps);
  const now = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const row = await subscriberById(trx, id, true);
    if (!row || !(await confirmSubscriber(trx, deps.auditor, { id, now, actor: `subscriber:${id}` }))) return false;
    const event = ledgerRow(id, setup.purpose, 'given', 'email-link', row.language);
    await insertLedgerRows(
      trx,
      deps.auditor,
      [event],
      [
        {
          actor: `subscriber:${id}`,
          action: 'consent.record',
          purpose: setup.purpose,
          detail: { receipt: event.receiptId, state: 'given', method: 'email-link' },
        },
      ],
      deps.register.fingerprint,
      now,
    );
    return true;
  });
}

/**
 * Unsubscribing (one click, RFC 8058): the subscription and its address are deleted, the withdrawal recorded, the
 * address's keyed hash suppressed. A link already used answers as done; false only for a link that is not ours.
 */
export async function unsubscribe(deps: NewsletterDeps, token: unknown): Promise<boolean> {
  const id = await readLink(deps, 'unsubscribe', token);
  if (!id) return false;
  const setup = newsletterOf(deps);
  const now = deps.clock.now();
  await deps.db.kysely.transaction().execute(async (trx) => {
    const row = await subscriberById(trx, id, true);
    if (!row) return;
    const actor = `subscriber:${id}`;
    await suppressHashes(deps, trx, {
      hashes: [await contactHash(deps, trx, 'email', row.email)],
      channels: ['email'],
      reason: 'unsubscribed',
      subjectId: null,
      actor,
    });
    await deleteSubscriber(trx, deps.auditor, { id, actor });
    const event = ledgerRow(id, setup.purpose, 'withdrawn', 'email-link', row.language);
    await insertLedgerRows(
      trx,
      deps.auditor,
      [event],
      [{ actor, action: 'consent.record', purpose: setup.purpose, detail: { receipt: event.receiptId, state: 'withdrawn', method: 'email-link' } }],
      deps.register.fingerprint,
      now,
    );
  });
  return true;
}

/** Sign-ups whose confirmation link ran out: deleted (the job runs it hourly). */
export function purgeUnconfirmed(deps: Pick<NewsletterDeps, 'db' | 'auditor' | 'clock'>): Promise<number> {
  return deps.db.kysely.transaction().execute((trx) => purgeUnconfirmedSubscribers(trx, deps.auditor, deps.clock.now()));
}

/**
 * An issue to every confirmed subscriber not on the suppression list, each with its own unsubscribe link in the text
 * and in the List-Unsubscribe headers. Returns how many were queued.
 */
export async function sendIssue(deps: NewsletterDeps, input: { subjectLine: string; text: string; publicUrl: string; actor: string }): Promise<number> {
  newsletterOf(deps);
  let queued = 0;
  await deps.db.kysely.transaction().execute(async (trx) => {
    for (const sub of await confirmedSubscribers(trx)) {
      if (await isSuppressed(trx, [await contactHash(deps, trx, 'email', sub.email)], 'email')) continue;
      const url = `${input.publicUrl}/unsubscribe?token=${await signLink(deps, trx, 'unsubscribe', sub.id, null)}`;
      const s = strings(sub.language === 'de' ? 'de' : 'en');
      const c = deps.register.controller;
      await deps.mailer.enqueue(trx, deps.auditor, {
        kind: 'newsletter',
        to: sub.email,
        subjectLine: input.subjectLine,
        text: `${input.text.trimEnd()}\n\n--\n${s.footer(c.name, pickText(c.address, s.lang), url)}\n`,
        headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        actor: input.actor,
      });
      queued++;
    }
  });
  return queued;
}

// ---- words ------------------------------------------------------------------------------------------------------

export function strings(lang: Language) {
  return lang === 'de'
    ? {
        lang,
        confirmSubject: (who: string) => `Bitte bestätigen Sie Ihre Newsletter-Anmeldung bei ${who}`,
        confirmText: (who: string, link: string, by: Date) =>
          `Guten Tag,\n\njemand – hoffentlich Sie – hat diese Adresse für den Newsletter von ${who} angemeldet. Öffnen Sie den Link und drücken Sie „Bestätigen“, wenn Sie ihn erhalten möchten:\n\n${link}\n\nDer Link gilt bis zum ${linkLapses(by, 'de')}. Bestätigen Sie nicht, wird die Anmeldung dann gelöscht und Sie erhalten nichts.\n`,
        footer: (who: string, address: string, url: string) => `Diesen Newsletter sendet ${who}, ${address}.\nAbmelden mit einem Klick: ${url}`,
        confirmTitle: 'Newsletter-Anmeldung bestätigen',
        confirmButton: 'Bestätigen',
        confirmIntro: 'Drücken Sie „Bestätigen“, um den Newsletter zu erhalten. Sie können ihn jederzeit über den Link in jeder Ausgabe abbestellen.',
        confirmed: 'Danke – Ihre Anmeldung ist bestätigt.',
        unsubscribeTitle: 'Newsletter abbestellen',
        unsubscribeButton: 'Abbestellen',
        unsubscribed:
          'Sie erhalten den Newsletter nicht mehr. Ihre Adresse wurde gelöscht; wir behalten nur einen Prüfwert, damit Ihnen nie wieder Werbung geschickt wird.',
        badLink: 'Dieser Link funktioniert nicht (mehr). Melden Sie sich gegebenenfalls erneut an.',
      }
    : {
        lang,
        confirmSubject: (who: string) => `Please confirm your newsletter subscription to ${who}`,
        confirmText: (who: string, link: string, by: Date) =>
          `Hello,\n\nsomeone, hopefully you, signed this address up for the ${who} newsletter. Open the link and press Confirm if you want it:\n\n${link}\n\nThe link works until ${linkLapses(by, 'en')}. If you do not confirm, the sign-up is then deleted and you will get nothing.\n`,
        footer: (who: string, address: string, url: string) => `This newsletter is sent by ${who}, ${address}.\nUnsubscribe with one click: ${url}`,
        confirmTitle: 'Confirm your newsletter subscription',
        confirmButton: 'Confirm',
        confirmIntro: 'Press Confirm to receive the newsletter. You can unsubscribe at any time with the link in every issue.',
        confirmed: 'Thank you: your subscription is confirmed.',
        unsubscribeTitle: 'Unsubscribe from the newsletter',
        unsubscribeButton: 'Unsubscribe',
        unsubscribed:
          'You will not receive the newsletter any more. Your address was deleted; we keep only a check value so that you are never sent marketing again.',
        badLink: 'This link does not work (any more). Sign up again if you wish.',
      };
}
