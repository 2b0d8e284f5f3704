// Consent receipts shaped after ISO/IEC 27560 (consent record information structure) and the Kantara Consent Receipt
// v1.1, in W3C DPV terms: what was agreed to or refused, by whom (a visitor or person id, never a name), when, under
// which version of the notice, for which purposes with their legal basis, data, recipients and retention, and how to
// withdraw. The purposes are described from the register version in force when the event was recorded.
import type { Register } from '../register/load-register.ts';
import type { Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import { DPV } from '../register/vocabulary.ts';
import type { LedgerEvent } from './consent-store.ts';
import { stateOf } from './consent-state.ts';
import type { ConsentMethod, ConsentState } from './tables.ts';

const RECEIPT_SCHEMA = 'ISO/IEC 27560:2023 consent record, DPV 2.1 terms (custodian receipt v1)';

/** DPV consent status (and, for an objection, the right exercised). */
const STATUS: Record<ConsentState, string> = {
  given: 'dpv:ConsentGiven',
  refused: 'dpv:ConsentRefused',
  withdrawn: 'dpv:ConsentWithdrawn',
  expired: 'dpv:ConsentExpired',
  pending: 'dpv:ConsentRequested',
  objected: 'dpv:RightToObject',
  // Not consent: legitimate interests under PECR reg. 22(3), the details obtained in a sale, the refusal offered.
  'soft-opt-in': 'dpv:LegitimateInterestOfController',
};

/** Where or how a choice was expressed. */
const MEANS: Record<Exclude<ConsentMethod, 'gpc'>, string> = {
  banner: 'cookie banner',
  form: 'web form',
  'email-link': 'confirmed from the mailbox',
  staff: 'recorded by staff',
  'privacy-centre': 'privacy centre',
  api: 'API',
};
const GPC = 'Global Privacy Control signal (Sec-GPC: 1): refusal and automated objection, Art. 21(5)';

/**
 * How the choice was expressed, in the words of what it was: only a consent given (or asked for) is an expression of
 * consent; a refusal, an objection ("no news by post" ticked on a form) or a withdrawal is said as such.
 */
function methodOf(e: Pick<LedgerEvent, 'state' | 'method'>): string {
  if (e.state === 'soft-opt-in') return SOFT_OPT_IN[e.method === 'staff' ? 'staff' : 'form'];
  if (e.method === 'gpc') return GPC;
  const means = MEANS[e.method];
  switch (e.state) {
    case 'refused':
      return `Consent refused (${means})`;
    case 'objected':
      return `Objection, Art. 21 GDPR (${means})`;
    case 'withdrawn':
      return `Consent withdrawn (${means})`;
    default:
      return `dpv:ExpressedConsent (${means})`;
  }
}

/** A soft opt-in is no expression of consent: the refusal was offered where the details were given, and not taken. */
const SOFT_OPT_IN = {
  form: 'PECR reg. 22(3) soft opt-in: contact details given in a sale or its negotiation (web form), the refusal offered and not taken',
  staff: 'PECR reg. 22(3) soft opt-in: contact details given in a sale or its negotiation (recorded by staff), the refusal offered and not taken',
} as const;

export interface ReceiptContext {
  /** The register in force now. */
  readonly register: Register;
  /** Registers served before, by fingerprint. */
  readonly versions: ReadonlyMap<string, { register: Register; noticeVersion: string | null; effective: string }>;
  readonly publicUrl: string;
  readonly now: Date;
}

/** One receipt: the events recorded together (one choice). */
export function buildReceipt(events: readonly LedgerEvent[], ctx: ReceiptContext): Record<string, unknown> {
  const first = events[0]!;
  const version = ctx.versions.get(first.noticeFingerprint);
  const register = version?.register ?? ctx.register;
  const lang: Language = first.language === 'de' ? 'de' : first.language === 'en' ? 'en' : register.notice.language;
  const c = register.controller;
  return {
    schema: RECEIPT_SCHEMA,
    schema_version: '1.0',
    record_id: first.receiptId,
    language: lang,
    jurisdiction: c.jurisdiction === 'uk' ? 'GB' : (c.country ?? 'EU'),
    data_subject: first.subjectId ? { id: first.subjectId, id_type: 'custodian-subject' } : { id: first.visitorId, id_type: 'visitor-cookie' },
    controllers: [
      {
        name: c.name,
        address: pickText(c.address, lang),
        ...(c.email ? { email: c.email } : {}),
        ...(c.dpo ? { dpo: { ...(c.dpo.email ? { email: c.dpo.email } : {}), title: pickText(c.dpo.title, lang) } } : {}),
      },
    ],
    notice: {
      fingerprint: first.noticeFingerprint,
      version: version?.noticeVersion ?? register.notice.version ?? null,
      effective: version?.effective ?? register.notice.effective,
      url: `${ctx.publicUrl}/privacy?lang=${lang}`,
      versions_url: `${ctx.publicUrl}/privacy/versions`,
    },
    presented_to_subject: {
      method: methodOf(first),
      point: first.point,
    },
    purposes: events.map((e) => purposeEntry(register, e, lang)),
    events: events.map((e) => {
      const now = stateOf(e, ctx.now);
      return {
        event_id: e.id,
        event_time: e.at.toISOString(),
        event_type: STATUS[e.state],
        purpose: e.purpose,
        ...(e.channel ? { channel: e.channel } : {}),
        method: methodOf(e),
        ...(e.context ? { context: e.context } : {}),
        validity: e.expiresAt ? { until: e.expiresAt.toISOString() } : null,
        state_now: STATUS[now.state],
      };
    }),
    withdrawal: {
      how: withdrawalText(register, events, lang),
      url: `${ctx.publicUrl}/privacy-center/withdraw-consent?lang=${lang}`,
    },
    receipt_url: `${ctx.publicUrl}/api/v1/consent/receipts/${first.receiptId}`,
  };
}

function purposeEntry(register: Register, e: LedgerEvent, lang: Language): Record<string, unknown> {
  const p = Object.hasOwn(register.purposes, e.purpose) ? register.purposes[e.purpose] : undefined;
  if (!p) return { id: e.purpose };
  return {
    id: e.purpose,
    title: pickText(p.title, lang),
    ...(p.dpv ? { dpv: p.dpv } : {}),
    legal_basis: DPV.basis[p.basis],
    data_categories: p.data.map((d) => ({ id: d, title: pickText(register.data[d]?.title, lang) ?? d })),
    recipients: p.recipients.map((r) => ({ id: r, title: pickText(register.recipients[r]?.title, lang) ?? r, country: register.recipients[r]?.country })),
    retention: { keep: p.retention.keep, then: DPV.action[p.retention.then] },
    ...(p['consent-lasts'] ? { consent_lasts: p['consent-lasts'] } : {}),
    ...(p.channels ? { channels: p.channels } : {}),
  };
}

function withdrawalText(register: Register, events: readonly LedgerEvent[], lang: Language): string {
  for (const e of events) {
    const w = register.purposes[e.purpose]?.withdraw;
    if (w) return pickText(w, lang);
  }
  return lang === 'de'
    ? 'Über die Cookie-Einstellungen auf jeder Seite oder im Datenschutz-Center, so einfach wie die Einwilligung.'
    : 'Through the cookie settings on every page or the privacy centre, as easily as you gave it.';
}
