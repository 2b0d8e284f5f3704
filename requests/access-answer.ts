// The answer to an access request (Art. 15): the data of the people staff linked to the request (never of anyone
// found by a shared email), sealed values opened with the opening audited, and every item Art. 15(1)(a)-(h) and 15(2)
// asks for, computed from the register and the records: purposes, categories, recipients (declared, and those the
// disclosure ledger shows the data actually went to), retention per record, the rights, the complaint route, the
// source, automated decisions and transfer safeguards.
//
// Health data gate (UK DPA 2018 Sch. 3 Part 2): where the register says the controller is not itself a health
// professional, health records go into the answer only with an appropriate health professional's opinion recorded
// within the last six months that releasing them would not cause serious harm, or when the person supplied them.
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { basisArticle, conditionArticle, countryName, isTransferAbroad } from '../documents/describe-terms.ts';
import { phraseKeepUntil } from '../documents/phrase-keep-until.ts';
import { phraseRetention } from '../documents/phrase-retention.ts';
import { disclosuresOf } from '../disclosures/disclosures-store.ts';
import { pickText } from '../register/text.ts';
import { personView } from '../subjects/person-view.ts';
import { rightName } from './request-mail.ts';
import { decisionsOf, getRequest, subjectsOfRequest } from './requests-store.ts';
import type { HealthOpinion } from './tables.ts';

export type AnswerDeps = Pick<AppContext, 'db' | 'register' | 'subjectKeys' | 'auditor' | 'clock'>;

/** Why a record is not in the answer. */
export type WithheldReason = 'health-opinion-needed' | 'serious-harm' | 'erased';

export interface AnswerRecord {
  readonly id: string;
  /** The person (as linked to the request) it belongs to. */
  readonly subjectId: string;
  readonly field: string;
  readonly category: string;
  readonly categoryTitle: string;
  /** Null when withheld (with the reason) or no longer readable. */
  readonly value: string | null;
  /** A file (a CV, a photo): its kind and size; the value is its name. */
  readonly file: { readonly mediaType: string; readonly size: number } | null;
  readonly withheld: WithheldReason | null;
  readonly purposes: readonly string[];
  readonly collectedAt: string;
  readonly receivedAt: string | null;
  /** Who supplied it: you, or the source named in the register. */
  readonly source: string;
  readonly restricted: boolean;
  /** Per purpose: until when it is kept, in words. */
  readonly keptUntil: readonly { purpose: string; until: string }[];
}

export interface AccessAnswer {
  readonly controller: { name: string; contact: string | null };
  readonly request: { id: string; receivedOn: string; answeredAt: string };
  readonly records: readonly AnswerRecord[];
  /** 15(1)(a) */
  readonly purposes: readonly { key: string; title: string; basis: string; interest: string | null; law: string | null; condition: string | null }[];
  /** 15(1)(b) */
  readonly categories: readonly { key: string; title: string; special: boolean }[];
  /** 15(1)(c): the recipients the register names for these purposes, and those the data actually went to. */
  readonly recipients: {
    readonly declared: readonly { key: string; title: string; country: string; names: readonly string[] }[];
    readonly disclosed: readonly { recipient: string; title: string; purpose: string; categories: readonly string[]; on: string }[];
  };
  /** 15(1)(d) */
  readonly retention: readonly { purpose: string; rule: string }[];
  /** 15(1)(e) */
  readonly rights: readonly string[];
  /** 15(1)(f) */
  readonly complaint: string;
  /** 15(1)(g) */
  readonly sources: readonly string[];
  /** 15(1)(h) */
  readonly automatedDecisions: readonly { purpose: string; logic: string; significance: string }[];
  /** 15(2) */
  readonly transfers: readonly { recipient: string; country: string; safeguard: string; copy: string | null }[];
  /** Health records held back, and why, so the person knows they exist. */
  readonly withheldCount: number;
}

const SIX_MONTHS_MS = 183 * 86_400_000;

/** Whether a health professional's opinion allows releasing health data today (recorded within six months). */
function opinionInForce(opinion: HealthOpinion | null, now: Date): HealthOpinion | null {
  if (!opinion) return null;
  return now.getTime() - Date.parse(`${opinion.givenOn}T00:00:00Z`) <= SIX_MONTHS_MS ? opinion : null;
}

/**
 * Builds the answer for an access or portability request. `onlyDecided`: the records the issued answer disclosed
 * (a download after issuing shows what was decided then, not records added since).
 */
export async function buildAccessAnswer(deps: AnswerDeps, requestId: string, options: { actor: string; onlyDecided?: boolean }): Promise<AccessAnswer> {
  const { register } = deps;
  const lang = register.notice.language;
  const request = await getRequest(deps.db.kysely, requestId);
  if (!request) throw new CustodianError('not_found', 'no such request');
  if (request.type !== 'access' && request.type !== 'portability') throw new CustodianError('conflict', `a ${request.type} request has no access answer`);
  if (!request.verification) throw new CustodianError('conflict', 'verify who is asking before answering');
  const linked = await subjectsOfRequest(deps.db.kysely, requestId);
  if (linked.length === 0) throw new CustodianError('conflict', 'link the people this request is about first (or close it as nothing held)');
  const now = deps.clock.now();
  const gate = !register.controller['health-professional'];
  const opinion = opinionInForce(request.health_opinion, now);
  // After issuing: the records decided then, disclosed or withheld with the reason given then.
  const decided = options.onlyDecided
    ? new Map(
        (await decisionsOf(deps.db.kysely, requestId))
          .filter((d) => d.action === 'disclosed' || d.action === 'withheld')
          .map((d) => [d.record_id, d.action === 'withheld' ? ((d.reason ?? 'health-opinion-needed') as WithheldReason) : null] as const),
      )
    : null;

  const records: AnswerRecord[] = [];
  const purposeKeys = new Set<string>();
  for (const { subject_id } of linked) {
    const view = await personView(deps, subject_id, { reveal: true, actor: options.actor });
    if (!view) continue;
    const byId = new Map<
      string,
      { line: (typeof view.purposes)[number]['records'][number]; purposes: string[]; keptUntil: { purpose: string; until: string }[] }
    >();
    for (const group of view.purposes) {
      for (const line of group.records) {
        const entry = byId.get(line.id) ?? { line, purposes: [], keptUntil: [] };
        entry.purposes.push(group.key);
        entry.keptUntil.push({ purpose: group.key, until: phraseKeepUntil(register, group.key, line.keepUntil, lang) });
        byId.set(line.id, entry);
      }
    }
    for (const { line, purposes, keptUntil } of byId.values()) {
      if (line.state === 'erased') continue;
      if (decided && !decided.has(line.id)) continue;
      const category = register.data[line.category];
      const health = category?.special === 'health';
      const supplied = line.source === 'subject';
      const withheld: WithheldReason | null = decided
        ? (decided.get(line.id) ?? null)
        : health && gate && !supplied
          ? opinion === null
            ? 'health-opinion-needed'
            : opinion.decision === 'withhold'
              ? 'serious-harm'
              : null
          : null;
      for (const p of purposes) purposeKeys.add(p);
      records.push({
        id: line.id,
        subjectId: subject_id,
        field: line.field,
        category: line.category,
        categoryTitle: category ? pickText(category.title, lang) : line.category,
        value: withheld ? null : line.value,
        file: withheld ? null : line.file,
        withheld,
        purposes,
        collectedAt: line.collectedAt.toISOString(),
        receivedAt: line.receivedAt?.toISOString() ?? null,
        source: supplied ? 'subject' : line.source,
        restricted: line.state === 'restricted',
        keptUntil,
      });
    }
  }

  const purposes = [...purposeKeys].filter((k) => Object.hasOwn(register.purposes, k)).sort();
  const disclosures = await disclosuresOf(
    deps.db.kysely,
    linked.map((l) => l.subject_id),
  );
  const recipientKeys = [...new Set(purposes.flatMap((p) => register.purposes[p]!.recipients))];
  const jurisdiction = register.controller.jurisdiction;
  return {
    controller: { name: register.controller.name, contact: register.controller.dpo?.email ?? register.rights.email ?? register.controller.email ?? null },
    request: { id: request.id, receivedOn: request.received_on, answeredAt: now.toISOString() },
    records,
    purposes: purposes.map((key) => {
      const p = register.purposes[key]!;
      return {
        key,
        title: pickText(p.title, lang),
        basis: basisArticle(p.basis, jurisdiction, lang),
        interest: pickText(p.interest, lang) ?? null,
        law: pickText(p.law, lang) ?? null,
        condition: p.condition ? conditionArticle(p.condition, jurisdiction, lang) : null,
      };
    }),
    categories: [...new Set(records.map((r) => r.category))].sort().map((key) => ({
      key,
      title: register.data[key] ? pickText(register.data[key]!.title, lang) : key,
      special: Boolean(register.data[key]?.special),
    })),
    recipients: {
      declared: recipientKeys.map((key) => {
        const r = register.recipients[key]!;
        return { key, title: pickText(r.title, lang), country: countryName(r.country, lang), names: r.names };
      }),
      disclosed: disclosures.map((d) => ({
        recipient: d.recipient,
        title: register.recipients[d.recipient] ? pickText(register.recipients[d.recipient]!.title, lang) : d.recipient,
        purpose: d.purpose,
        categories: d.categories,
        on: d.disclosed_at.toISOString().slice(0, 10),
      })),
    },
    retention: purposes.map((key) => ({ purpose: key, rule: phraseRetention(register, register.purposes[key]!.retention, lang) })),
    rights: (['rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent'] as const).map((t) => rightName(lang, t)),
    complaint: complaintRoute(deps, lang),
    sources: [...new Set(records.map((r) => r.source))].map((s) =>
      s === 'subject'
        ? lang === 'de'
          ? 'von Ihnen selbst'
          : 'you'
        : register.sources[s]
          ? pickText(register.sources[s]!.title, lang)
          : register.subjects[s]
            ? pickText(register.subjects[s]!.title, lang)
            : s,
    ),
    automatedDecisions: purposes.flatMap((key) => {
      const a = register.purposes[key]!.automated;
      return a ? [{ purpose: key, logic: pickText(a.logic, lang), significance: pickText(a.significance, lang) }] : [];
    }),
    transfers: recipientKeys.flatMap((key) => {
      const r = register.recipients[key]!;
      return isTransferAbroad(jurisdiction, r.country) && r.transfer
        ? [
            {
              recipient: pickText(r.title, lang),
              country: countryName(r.country, lang),
              safeguard: r.transfer.safeguard,
              copy: pickText(r.transfer.copy, lang) ?? null,
            },
          ]
        : [];
    }),
    withheldCount: records.filter((r) => r.withheld).length,
  };
}

function complaintRoute(deps: Pick<AppContext, 'register'>, lang: 'en' | 'de'): string {
  const { controller } = deps.register;
  const authority = controller.authority ? pickText(controller.authority.name, lang) : null;
  if (controller.jurisdiction === 'uk')
    return lang === 'de'
      ? `Sie können sich jederzeit beim Information Commissioner's Office (ico.org.uk) beschweren${authority ? ` oder bei ${authority}` : ''}.`
      : `You can complain at any time to the Information Commissioner's Office (ico.org.uk)${authority ? ` or to ${authority}` : ''}.`;
  return lang === 'de'
    ? `Sie können sich bei einer Aufsichtsbehörde beschweren, insbesondere in dem Mitgliedstaat Ihres Aufenthalts, Ihres Arbeitsplatzes oder des mutmaßlichen Verstoßes${authority ? `; für uns zuständig ist ${authority}` : ''}.`
    : `You can complain to a supervisory authority, in particular in the EU member state where you live or work or where the infringement took place${authority ? `; ours is ${authority}` : ''}.`;
}
