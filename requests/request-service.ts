// Rights requests from receipt to closing: intake (the privacy centre, staff recording a letter or call, the CLI),
// email confirmation, identity checks, the statutory clock with its pauses and extensions, the people a request is
// about (confirmed by staff, never found by a shared email alone) and closing with an outcome. Fulfilling a request
// (the access answer, erasure...) is in fulfil-*.ts; this file owns the request's life.
import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { Tables } from '../db/tables.ts';
import type { Register } from '../register/load-register.ts';
import { chosenSubjects } from '../subjects/subjects-store.ts';
import { confirmationMail, rightName } from './request-mail.ts';
import {
  closePause,
  getRequest,
  insertPause,
  insertRequest,
  linkSubject,
  lockRequest,
  noticesOfRequest,
  openRequestsByEmail,
  recentUnconfirmed,
  pausesOf,
  requestByConfirmToken,
  subjectsOfRequest,
  updateRequest,
  type PauseRow,
  type RecipientNoticeRow,
  type RequestRow,
} from './requests-store.ts';
import { type CalendarRules, calendarRules, dueDate, dueStatus, localDate } from './statutory-clock.ts';
import type { OnBehalf, Outcome, RequestChannel, RequestType, Verification } from './tables.ts';

export type RequestDeps = Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register' | 'mailer'>;

/** How long an emailed confirmation link works; an unconfirmed request then expires and its contact details go. */
export const CONFIRM_LINK_DAYS = 14;
const DAY_MS = 86_400_000;
const MAX_DETAILS = 5000;
/** Unconfirmed web requests one address may have from the last 24 hours: nobody's mailbox is flooded with links. */
const UNCONFIRMED_PER_DAY = 3;

export function rulesOf(register: Register): CalendarRules {
  return calendarRules({
    jurisdiction: register.controller.jurisdiction,
    ...(register.controller.country ? { country: register.controller.country } : {}),
    ...(register.rights.holidays ? { holidays: register.rights.holidays } : {}),
    ...(register.rights['time-zone'] ? { timeZone: register.rights['time-zone'] } : {}),
  });
}

/** The date a complaint must be acknowledged by: 30 days, the day it was received being the first (DPA 2018 s.164A). */
export function acknowledgeBy(receivedOn: string): string {
  const d = new Date(`${receivedOn}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 29);
  return d.toISOString().slice(0, 10);
}

const REFUSAL_REASONS: Record<string, { en: string; de: string }> = {
  'manifestly-unfounded': { en: 'the request is manifestly unfounded', de: 'der Antrag ist offenkundig unbegründet' },
  'manifestly-excessive': {
    en: 'the request is manifestly excessive (for example, it repeats an earlier one)',
    de: 'der Antrag ist exzessiv (etwa weil er einen früheren wiederholt)',
  },
  'identity-not-verified': {
    en: 'we could not verify that the request comes from the person the data is about',
    de: 'wir konnten nicht feststellen, dass der Antrag von der betroffenen Person stammt',
  },
  'exemption-applies': { en: 'an exemption in data protection law applies', de: 'eine gesetzliche Ausnahme greift' },
  'health-record-retention': {
    en: 'the law requires us to keep these health records',
    de: 'das Gesetz verpflichtet uns, diese Gesundheitsdaten aufzubewahren',
  },
  'legal-claims': {
    en: 'we need the data to establish, exercise or defend legal claims',
    de: 'wir benötigen die Daten zur Geltendmachung, Ausübung oder Verteidigung von Rechtsansprüchen',
  },
};

function refusalMail(deps: Pick<RequestDeps, 'register'>, type: RequestType, reasons: readonly string[]): { subjectLine: string; text: string } {
  const lang = deps.register.notice.language;
  const controller = deps.register.controller.name;
  const why = reasons.map((r) => `- ${REFUSAL_REASONS[r]?.[lang] ?? r}`).join('\n');
  const uk = deps.register.controller.jurisdiction === 'uk';
  if (lang === 'de')
    return {
      subjectLine: `Ihr Antrag an ${controller}`,
      text: `Guten Tag,\n\nwir können Ihrem Antrag (${rightName(lang, type)}) nicht nachkommen. Gründe:\n${why}\n\nSie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren und einen gerichtlichen Rechtsbehelf einlegen.\n\n${controller}`,
    };
  return {
    subjectLine: `Your request to ${controller}`,
    text: `Hello,\n\nWe cannot do what you asked (${rightName(lang, type)}). Why:\n${why}\n\nYou can complain to ${uk ? "the Information Commissioner's Office (ico.org.uk)" : 'a data protection supervisory authority'}, and you can seek a remedy through the courts.\n\n${controller}`,
  };
}

/** The keyed form of an address that finds repeated requests: lower-cased and trimmed, then hashed. */
function emailHash(email: string): Uint8Array {
  return createHash('sha256').update(`custodian-request:${email.trim().toLowerCase()}`).digest();
}

function tokenHash(token: string): Uint8Array {
  return createHash('sha256').update(`custodian-confirm:${token}`).digest();
}

export interface NewRequestInput {
  readonly type: RequestType;
  readonly channel: RequestChannel;
  /** When it arrived; staff give the date a letter or call came in, never later than now. */
  readonly receivedAt: Date;
  readonly email?: string | null;
  readonly name?: string | null;
  readonly details?: string | null;
  readonly onBehalf?: OnBehalf | null;
  /** Who recorded it: `public:privacy-centre`, `staff:<id>`, `cli:<user>`. */
  readonly actor: string;
  /** Web requests are confirmed from the mailbox before anyone acts on them. */
  readonly needsConfirmation: boolean;
  /** A signed-in account holder (or staff who know the person): no proof of identity is asked. */
  readonly verification?: Verification | null;
  /** Where the confirmation link points: the public address of this server, e.g. https://privacy.example.com. */
  readonly publicUrl?: string;
}

export interface ReceivedRequest {
  readonly request: RequestView;
}

export async function receiveRequest(deps: RequestDeps, input: NewRequestInput): Promise<ReceivedRequest> {
  const rules = rulesOf(deps.register);
  const now = deps.clock.now();
  if (input.receivedAt.getTime() > now.getTime() + 60_000) throw new CustodianError('invalid_body', 'the date received is in the future');
  const email = input.email?.trim() || null;
  if (input.needsConfirmation && !email) throw new CustodianError('invalid_body', 'an email address is needed to confirm the request');
  if (input.details && input.details.length > MAX_DETAILS) throw new CustodianError('invalid_body', `the message is longer than ${MAX_DETAILS} characters`);
  const receivedOn = localDate(rules, input.receivedAt);
  const confirmToken = input.needsConfirmation ? randomBytes(32).toString('base64url') : null;
  // UK: proof reasonably asked for (here, that the mailbox is theirs) starts the clock when it arrives (Art. 12(6)).
  const identityAskedOn = input.needsConfirmation && rules.jurisdiction === 'uk' ? receivedOn : null;
  // A complaint has no Art. 12 clock: it is acknowledged within 30 days (UK DPA 2018 s.164A).
  const due = input.type === 'complaint' ? { due: acknowledgeBy(receivedOn) } : dueDate(rules, { relevantDate: receivedOn });
  const id = crypto.randomUUID();
  const hash = email ? emailHash(email) : null;
  return deps.db.kysely.transaction().execute(async (trx) => {
    if (hash && input.needsConfirmation && (await recentUnconfirmed(trx, hash, new Date(now.getTime() - DAY_MS))) >= UNCONFIRMED_PER_DAY)
      throw new CustodianError(
        'rate_limited',
        'several requests from this address are waiting for confirmation: use the link we emailed, or try again tomorrow',
      );
    const earlier = hash ? await openRequestsByEmail(trx, hash, input.type) : [];
    await insertRequest(trx, deps.auditor, {
      id,
      type: input.type,
      status: input.needsConfirmation ? 'unconfirmed' : 'open',
      channel: input.channel,
      jurisdiction: rules.jurisdiction,
      received_at: input.receivedAt,
      received_on: receivedOn,
      identity_asked_on: identityAskedOn,
      identity_received_on: null,
      relevant_on: receivedOn,
      due_on: due.due,
      extension_reason: null,
      extension_told_on: null,
      contact_email: email,
      contact_name: input.name?.trim() || null,
      details: input.details?.trim() || null,
      email_hash: hash,
      on_behalf: input.onBehalf ? JSON.stringify(input.onBehalf) : null,
      duplicate_of: earlier[0]?.id ?? null,
      confirm_token_hash: confirmToken ? tokenHash(confirmToken) : null,
      confirm_expires_at: confirmToken ? new Date(now.getTime() + CONFIRM_LINK_DAYS * DAY_MS) : null,
      confirmed_at: null,
      verification: input.verification ? JSON.stringify(input.verification) : null,
      fee_reason: null,
      health_opinion: null,
      answer_token_hash: null,
      answer_expires_at: null,
      acknowledged_on: null,
      created_by: input.actor,
    });
    if (confirmToken && email) {
      const lang = deps.register.notice.language;
      const link = `${(input.publicUrl ?? '').replace(/\/$/, '')}/privacy-center/confirm?token=${confirmToken}`;
      const mail = confirmationMail({ lang, controller: deps.register.controller.name, type: input.type, link, days: CONFIRM_LINK_DAYS });
      await deps.mailer.enqueue(trx, deps.auditor, { kind: 'request-verification', to: email, ...mail, requestId: id, actor: input.actor });
    }
    return { request: await viewOf(trx, deps, id) };
  });
}

/** The requester followed the emailed link: the mailbox is theirs. UK: the clock starts today. */
export async function confirmRequest(deps: RequestDeps, token: string): Promise<RequestView> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new CustodianError('not_found', 'this confirmation link is not valid or has expired');
  const now = deps.clock.now();
  return deps.db.kysely.transaction().execute(async (trx) => {
    const row = await requestByConfirmToken(trx, tokenHash(token));
    if (!row || row.status !== 'unconfirmed' || !row.confirm_expires_at || row.confirm_expires_at.getTime() < now.getTime())
      throw new CustodianError('not_found', 'this confirmation link is not valid or has expired');
    const rules = rulesOf(deps.register);
    const today = localDate(rules, now);
    const verification: Verification = { method: 'email-link', seen: null, by: 'subject', at: now.toISOString() };
    const identityReceived = row.identity_asked_on ? today : null;
    const relevant = identityReceived ?? row.relevant_on;
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      {
        status: 'open',
        confirmed_at: now,
        confirm_token_hash: null,
        identity_received_on: identityReceived,
        relevant_on: relevant,
        due_on: computeDue(rules, { ...row, relevant_on: relevant }, await pausesOf(trx, row.id)).due,
        verification: JSON.stringify(verification),
      },
      { action: 'request.confirm', actor: 'subject:confirm-link' },
    );
    return viewOf(trx, deps, row.id);
  });
}

function computeDue(rules: CalendarRules, row: Pick<RequestRow, 'relevant_on' | 'extension_months'>, pauses: readonly PauseRow[]) {
  return dueDate(rules, {
    relevantDate: row.relevant_on,
    pauses: pauses.map((p) => ({ from: p.from_on, to: p.to_on })).filter((p) => p.to !== null),
    extensionMonths: row.extension_months as 0 | 1 | 2,
  });
}

/** Runs a staff change on one request, locked, refusing closed requests, and recomputes its deadline. */
async function change(
  deps: RequestDeps,
  id: string,
  fn: (trx: Transaction<Tables>, row: RequestRow, ctx: { rules: CalendarRules; today: string; now: Date }) => Promise<void>,
): Promise<RequestView> {
  if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
  const now = deps.clock.now();
  const rules = rulesOf(deps.register);
  return deps.db.kysely.transaction().execute(async (trx) => {
    const row = await lockRequest(trx, id.toLowerCase());
    if (!row) throw new CustodianError('not_found', 'no such request');
    if (row.status !== 'open' && row.status !== 'unconfirmed') throw new CustodianError('conflict', `this request is ${row.status}`);
    await fn(trx, row, { rules, today: localDate(rules, now), now });
    return viewOf(trx, deps, row.id);
  });
}

function checkDate(value: string, what: string, today: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new CustodianError('invalid_body', `${what} must be a date written YYYY-MM-DD`);
  if (value > today) throw new CustodianError('invalid_body', `${what} is in the future`);
  return value;
}

/** Staff record how they checked who is asking (what they saw, never a copy of it). */
export async function recordVerification(
  deps: RequestDeps,
  id: string,
  input: { method: Verification['method']; seen: string | null; actor: string; receivedOn?: string },
): Promise<RequestView> {
  return change(deps, id, async (trx, row, { rules, today, now }) => {
    if (input.seen && input.seen.length > 300) throw new CustodianError('invalid_body', 'describe what was seen in up to 300 characters');
    const identityReceived =
      row.identity_asked_on && !row.identity_received_on ? checkDate(input.receivedOn ?? today, 'the date the proof arrived', today) : row.identity_received_on;
    if (identityReceived && row.identity_asked_on && identityReceived < row.identity_asked_on)
      throw new CustodianError('invalid_body', 'the proof cannot have arrived before it was asked for');
    const relevant = rules.jurisdiction === 'uk' && identityReceived && identityReceived > row.received_on ? identityReceived : row.relevant_on;
    const verification: Verification = { method: input.method, seen: input.seen?.trim() || null, by: input.actor, at: now.toISOString() };
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      {
        verification: JSON.stringify(verification),
        identity_received_on: identityReceived,
        relevant_on: relevant,
        due_on: computeDue(rules, { ...row, relevant_on: relevant }, await pausesOf(trx, row.id)).due,
      },
      { action: 'request.verify', actor: input.actor, detail: { method: input.method } },
    );
  });
}

/** Staff asked for proof of identity (reasonable doubt, health data): UK, the clock starts once it arrives. */
export async function askForIdentity(deps: RequestDeps, id: string, input: { askedOn?: string; actor: string }): Promise<RequestView> {
  return change(deps, id, async (trx, row, { today }) => {
    if (row.verification) throw new CustodianError('conflict', 'identity is already verified for this request');
    const asked = checkDate(input.askedOn ?? today, 'the date proof was asked for', today);
    if (asked < row.received_on) throw new CustodianError('invalid_body', 'proof cannot be asked for before the request arrived');
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      { identity_asked_on: asked, identity_received_on: null },
      { action: 'request.identity', actor: input.actor },
    );
  });
}

/** UK access requests: the clock stops while staff wait for a clarification they reasonably need. */
export async function pauseRequest(deps: RequestDeps, id: string, input: { from?: string; justification: string; actor: string }): Promise<RequestView> {
  return change(deps, id, async (trx, row, { today }) => {
    if (row.jurisdiction !== 'uk') throw new CustodianError('conflict', 'the clock of an EU request cannot be paused');
    if (row.type !== 'access') throw new CustodianError('conflict', 'only an access request can be paused for clarification');
    const justification = input.justification.trim();
    if (justification.length < 10 || justification.length > 1000)
      throw new CustodianError('invalid_body', 'say why the clarification is needed (10 to 1000 characters)');
    const from = checkDate(input.from ?? today, 'the date clarification was asked for', today);
    if (from < row.relevant_on) throw new CustodianError('invalid_body', 'a pause cannot start before the clock did');
    const pauses = await pausesOf(trx, row.id);
    if (pauses.some((p) => p.to_on === null)) throw new CustodianError('conflict', 'the clock is already paused');
    if (pauses.some((p) => p.to_on !== null && from <= p.to_on)) throw new CustodianError('invalid_body', 'a pause cannot start before the last one ended');
    await insertPause(trx, { request_id: row.id, from_on: from, justification, paused_by: input.actor });
    await updateRequest(trx, deps.auditor, row.id, {}, { action: 'request.pause', actor: input.actor, detail: { from } });
  });
}

/** The clarification arrived: the paused days (both ends included) are added to the deadline. */
export async function resumeRequest(deps: RequestDeps, id: string, input: { to?: string; actor: string }): Promise<RequestView> {
  return change(deps, id, async (trx, row, { rules, today }) => {
    const pauses = await pausesOf(trx, row.id);
    const open = pauses.find((p) => p.to_on === null);
    if (!open) throw new CustodianError('conflict', 'the clock is not paused');
    const to = checkDate(input.to ?? today, 'the date the clarification arrived', today);
    if (to < open.from_on) throw new CustodianError('invalid_body', 'the clarification cannot arrive before it was asked for');
    await closePause(trx, row.id, open.from_on, to, input.actor);
    const closed = pauses.map((p) => (p === open ? { ...p, to_on: to } : p));
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      { due_on: computeDue(rules, row, closed).due },
      { action: 'request.resume', actor: input.actor, detail: { to } },
    );
  });
}

/** Extension by up to two further months, the requester told with reasons within the first month (Art. 12(3)). */
export async function extendRequest(
  deps: RequestDeps,
  id: string,
  input: { months: 1 | 2; reason: string; toldOn?: string; actor: string },
): Promise<RequestView> {
  return change(deps, id, async (trx, row, { rules, today }) => {
    if (row.type === 'complaint') throw new CustodianError('conflict', 'a complaint has no statutory extension');
    if (input.months !== 1 && input.months !== 2) throw new CustodianError('invalid_body', 'extend by 1 or 2 months');
    if (input.months <= row.extension_months) throw new CustodianError('conflict', `the deadline is already extended by ${row.extension_months} month(s)`);
    const reason = input.reason.trim();
    if (reason.length < 10 || reason.length > 1000) throw new CustodianError('invalid_body', 'give the reasons the requester is told (10 to 1000 characters)');
    const told = checkDate(input.toldOn ?? today, 'the date the requester was told', today);
    const pauses = await pausesOf(trx, row.id);
    const noticeBy = computeDue(rules, row, pauses).extensionNoticeBy;
    if (told > noticeBy) throw new CustodianError('conflict', `an extension must be told to the requester within the first month, by ${noticeBy}`);
    const extended = { ...row, extension_months: input.months };
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      { extension_months: input.months, extension_reason: reason, extension_told_on: told, due_on: computeDue(rules, extended, pauses).due },
      { action: 'request.extend', actor: input.actor, detail: { months: input.months } },
    );
  });
}

/** Staff confirm who the request is about. A person already erased or merged away cannot be named. */
export async function linkRequestSubject(deps: RequestDeps, id: string, input: { subjectId: string; actor: string }): Promise<RequestView> {
  if (!isUuid(input.subjectId)) throw new CustodianError('invalid_body', 'subject must be a Custodian person id');
  return change(deps, id, async (trx, row, { now }) => {
    const subjectId = input.subjectId.toLowerCase();
    const subject = (await chosenSubjects(trx, [subjectId])).get(subjectId);
    if (!subject) throw new CustodianError('not_found', 'no such person');
    if (subject.holder !== subjectId) throw new CustodianError('conflict', `this person was merged into ${subject.holder}: link that one`);
    await linkSubject(trx, deps.auditor, { requestId: row.id, subjectId, actor: input.actor, now });
  });
}

/** Closes a request with its outcome and reason codes (refusals carry the right to complain and to a court). */
export async function closeRequest(
  deps: RequestDeps,
  id: string,
  input: { outcome: Outcome; reasons: readonly string[]; actor: string /** A complaint's outcome, in words, for the complainant. */; message?: string },
): Promise<RequestView> {
  return change(deps, id, async (trx, row, { now }) => {
    if (row.status === 'unconfirmed' && input.outcome !== 'refused') throw new CustodianError('conflict', 'the requester has not confirmed this request yet');
    const message = input.message?.trim() ?? '';
    if (row.type === 'complaint' && input.outcome !== 'refused' && row.contact_email && (message.length < 20 || message.length > 5000))
      throw new CustodianError('invalid_body', 'tell the complainant the outcome in words (20 to 5000 characters): it is emailed to them');
    if (input.outcome === 'refused' && input.reasons.length === 0) throw new CustodianError('invalid_body', 'a refusal needs its reasons');
    for (const r of input.reasons)
      if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(r)) throw new CustodianError('invalid_body', 'reasons are codes (lower-case letters, digits and hyphens)');
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      {
        status: input.outcome === 'refused' ? 'refused' : 'completed',
        outcome: input.outcome,
        outcome_reasons: [...input.reasons],
        closed_at: now,
        closed_by: input.actor,
      },
      { action: 'request.close', actor: input.actor, detail: { outcome: input.outcome, onTime: localDate(rulesOf(deps.register), now) <= row.due_on } },
    );
    // A refusal is told with its reasons, the right to complain and the right to a judicial remedy (Art. 12(4)).
    if (input.outcome === 'refused' && row.contact_email && row.status === 'open')
      await deps.mailer.enqueue(trx, deps.auditor, {
        kind: 'request-answer',
        to: row.contact_email,
        requestId: row.id,
        actor: input.actor,
        ...refusalMail(deps, row.type, input.reasons),
      });
    // A complaint's outcome is told with the right to take it to the regulator (UK DPA 2018 s.164A).
    else if (row.type === 'complaint' && row.contact_email && message)
      await deps.mailer.enqueue(trx, deps.auditor, {
        kind: 'request-answer',
        to: row.contact_email,
        requestId: row.id,
        actor: input.actor,
        ...complaintOutcomeMail(deps, message),
      });
  });
}

function complaintOutcomeMail(deps: Pick<RequestDeps, 'register'>, message: string): { subjectLine: string; text: string } {
  const lang = deps.register.notice.language;
  const controller = deps.register.controller.name;
  const uk = deps.register.controller.jurisdiction === 'uk';
  if (lang === 'de')
    return {
      subjectLine: `Ihre Beschwerde an ${controller}: unser Ergebnis`,
      text: `Guten Tag,\n\nwir haben Ihre Beschwerde geprüft.\n\n${message}\n\nWenn Sie mit dem Ergebnis nicht zufrieden sind, können Sie sich an eine Datenschutz-Aufsichtsbehörde wenden.\n\n${controller}`,
    };
  return {
    subjectLine: `Your complaint to ${controller}: the outcome`,
    text: `Hello,\n\nWe have looked into your complaint.\n\n${message}\n\nIf you are not satisfied, you can complain to ${uk ? "the Information Commissioner's Office (ico.org.uk)" : 'a data protection supervisory authority'}.\n\n${controller}`,
  };
}

export interface RequestView {
  readonly id: string;
  readonly type: RequestType;
  readonly status: RequestRow['status'];
  readonly channel: RequestChannel;
  readonly jurisdiction: 'uk' | 'eu';
  readonly receivedAt: string;
  readonly receivedOn: string;
  /** The deadline as a date in the controller's calendar. */
  readonly dueAt: string;
  readonly daysLeft: number;
  readonly flag: 'overdue' | 'due-soon' | 'on-time' | 'closed';
  /** Waiting for proof of identity: UK, the clock has not started; dueAt is what it would be from receipt. */
  readonly awaitingIdentity: boolean;
  readonly relevantOn: string;
  readonly pauses: { from: string; to: string | null; justification: string }[];
  readonly extension: { months: number; reason: string | null; toldOn: string | null; noticeBy: string } | null;
  readonly contact: { email: string | null; name: string | null } | null;
  readonly details: string | null;
  readonly onBehalf: OnBehalf | null;
  readonly duplicateOf: string | null;
  readonly verification: Verification | null;
  readonly subjects: string[];
  /** Complaints: when it was acknowledged (due within 30 days). */
  readonly acknowledgedOn: string | null;
  /** Art. 19: who was told of a rectification, erasure or restriction, and where each notice stands. */
  readonly recipientNotices: { id: string; recipient: string; change: string; state: string; records: number }[];
  readonly outcome: Outcome | null;
  readonly outcomeReasons: string[];
  readonly closedAt: string | null;
}

async function viewOf(ex: Transaction<Tables> | RequestDeps['db']['kysely'], deps: RequestDeps, id: string): Promise<RequestView> {
  const row = await getRequest(ex, id);
  if (!row) throw new CustodianError('not_found', 'no such request');
  return toView(
    deps,
    row,
    await pausesOf(ex, id),
    (await subjectsOfRequest(ex, id)).map((s) => s.subject_id),
    await noticesOfRequest(ex, id),
  );
}

export function toView(
  deps: Pick<RequestDeps, 'clock' | 'register'>,
  row: RequestRow,
  pauses: readonly PauseRow[],
  subjects: string[],
  notices: readonly RecipientNoticeRow[] = [],
): RequestView {
  const rules = rulesOf(deps.register);
  const open = row.status === 'open' || row.status === 'unconfirmed';
  const status = dueStatus(row.due_on, localDate(rules, deps.clock.now()));
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    channel: row.channel,
    jurisdiction: row.jurisdiction,
    receivedAt: row.received_at.toISOString(),
    receivedOn: row.received_on,
    dueAt: row.due_on,
    daysLeft: status.daysLeft,
    flag: open ? status.flag : 'closed',
    awaitingIdentity: row.identity_asked_on !== null && row.identity_received_on === null,
    relevantOn: row.relevant_on,
    pauses: pauses.map((p) => ({ from: p.from_on, to: p.to_on, justification: p.justification })),
    extension:
      row.extension_months > 0
        ? {
            months: row.extension_months,
            reason: row.extension_reason,
            toldOn: row.extension_told_on,
            noticeBy: computeDue(rules, { ...row, extension_months: 0 }, pauses).due,
          }
        : null,
    contact: row.contact_purged_at ? null : { email: row.contact_email, name: row.contact_name },
    details: row.details,
    onBehalf: row.on_behalf,
    duplicateOf: row.duplicate_of,
    verification: row.verification,
    subjects,
    acknowledgedOn: row.acknowledged_on,
    recipientNotices: notices.map((n) => ({ id: n.id, recipient: n.recipient, change: n.change, state: n.state, records: n.record_ids.length })),
    outcome: row.outcome,
    outcomeReasons: row.outcome_reasons,
    closedAt: row.closed_at?.toISOString() ?? null,
  };
}

export async function showRequest(deps: RequestDeps, id: string): Promise<RequestView> {
  if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
  return viewOf(deps.db.kysely, deps, id.toLowerCase());
}
