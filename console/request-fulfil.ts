// Fulfilling a request from its console page, per type, through the same services as the staff API (nothing here
// decides anything itself): access and portability (the health professional's opinion, a preview of the answer that
// opens sealed values and is audited, issuing it by an emailed link, which closes the request); erasure (with records
// staff keep for a dispute or legal claims); rectification record by record; restriction and lifting it; objection
// (compelling grounds per legitimate-interest purpose, never for direct marketing); withdrawal of consent; a
// complaint's acknowledgement; the Art. 19 notices to recipients; and, once closed, what was decided per record.
import type { AppContext } from '../app/app-context.ts';
import { addDuration } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { UUID_PATTERN } from '../core/ids.ts';
import { pickText } from '../register/text.ts';
import type { AccessAnswer } from '../requests/access-answer.ts';
import { requestEvidence } from '../requests/evidence.ts';
import { fulfilErasure, issueAccessAnswer, recordHealthOpinion } from '../requests/fulfil.ts';
import {
  acknowledgeComplaint,
  completeNotice,
  liftRestriction,
  objectForRequest,
  rectifyRecord,
  restrictForRequest,
  withdrawConsentForRequest,
} from '../requests/fulfil-rights.ts';
import { acknowledgeBy, type RequestView } from '../requests/request-service.ts';
import { decisionsOf, getRequest } from '../requests/requests-store.ts';
import { personView } from '../subjects/person-view.ts';

type Form = Record<string, string>;
/** What an action adds to the page's address after it, for the page to say what it did (numbers and purpose keys). */
export type ActionResult = { readonly say: Record<string, string> } | undefined;
type Action = (name: string, run: (id: string, f: Form, actor: string) => Promise<ActionResult>) => void;

/** Why a record was kept, held back or erased, in words. */
const REASONS: Record<string, string> = {
  'health-record-retention': 'a healthcare record the law requires us to keep (Art. 17(3)(b) and (c))',
  'legal-obligation': 'kept under a legal obligation (Art. 17(3)(b))',
  'legal-claims': 'needed for legal claims (Art. 17(3)(e))',
  dispute: 'kept for a dispute in progress',
  'public-health': 'kept for public health (Art. 17(3)(c))',
  'health-opinion-needed': "held back: no health professional's opinion recorded in the last six months",
  'serious-harm': 'held back: a health professional judged releasing it could cause serious harm',
  erased: 'erased since',
  'objection-upheld': 'the objection is upheld',
  'compelling-grounds': 'kept on the compelling grounds recorded',
  'consent-withdrawn': 'consent withdrawn and nothing else needs it',
};
const reasonText = (code: string | null) => (code ? (REASONS[code] ?? code) : '');

const ACTIONS: Record<string, string> = {
  disclosed: 'Disclosed',
  withheld: 'Held back',
  exported: 'Exported',
  erased: 'Erased',
  kept: 'Kept and restricted',
  restricted: 'Restricted',
  unrestricted: 'Restriction lifted',
  rectified: 'Corrected',
};
const CHANGES: Record<string, string> = { rectification: 'Corrected', erasure: 'Erased', restriction: 'Restricted' };
const NOTICE_STATES: Record<string, string> = {
  'to-send': 'To send (no address in the register: tell them yourself)',
  sent: 'Sent, waiting for them to confirm',
  done: 'Done',
  impossible: 'Impossible or disproportionate',
};

const uuid = (s: string) => UUID_PATTERN.test(s);
/** Record ids ticked in a form: fields named `<prefix><record id>`. */
const ticked = (f: Form, prefix: string) =>
  Object.keys(f)
    .filter((k) => k.startsWith(prefix) && uuid(k.slice(prefix.length)))
    .map((k) => k.slice(prefix.length).toLowerCase());

/** What the page says after a step, from the step's name and what it put in the address. */
export function doneText(ctx: Pick<AppContext, 'register'>, name: string, q: Record<string, string | undefined>): string | null {
  const n = (k: string) => (q[k] && /^\d{1,7}$/.test(q[k]) ? Number(q[k]) : 0);
  const purposes = (k: string) =>
    (q[k] ?? '')
      .split(',')
      .filter((p) => Object.hasOwn(ctx.register.purposes, p))
      .map((p) => pickText(ctx.register.purposes[p]!.title, 'en'));
  const records = (x: number) => `${x} record${x === 1 ? '' : 's'}`;
  switch (name) {
    case 'health-opinion':
      return "The health professional's opinion is recorded.";
    case 'answer':
      return 'The answer is issued: the requester is emailed a link to it, and the request is closed.';
    case 'erase':
      return 'The erasure is done and the request closed.';
    case 'rectify':
      return 'The record is corrected. Recipients it was disclosed to are told (Art. 19).';
    case 'restrict':
      return `${records(n('n'))} restricted: stored only, never disclosed.`;
    case 'lift-restriction':
      return `The person was emailed why, first; ${records(n('n'))} no longer restricted.`;
    case 'object': {
      const stopped = purposes('stopped');
      const continued = purposes('continued');
      return [
        stopped.length > 0 ? `Stopped: ${stopped.join('; ')} (${records(n('erased'))} held for nothing else erased).` : '',
        continued.length > 0 ? `Goes on, on the compelling grounds recorded: ${continued.join('; ')}.` : '',
      ]
        .filter(Boolean)
        .join(' ');
    }
    case 'withdraw-consent':
      return `${n('n')} consent${n('n') === 1 ? '' : 's'} withdrawn; ${records(n('erased'))} held for nothing else erased.`;
    case 'acknowledge':
      return 'The complaint is acknowledged (the complainant is emailed where they gave an address).';
    case 'notice':
      return 'The notice is recorded.';
    default:
      return null;
  }
}

/** The fulfilment steps, each through the `action` helper of the request page. */
export function fulfilActions(ctx: AppContext, publicUrl: string, action: Action): void {
  action('health-opinion', async (id, f, actor) => {
    const decision = f.decision === 'release' || f.decision === 'withhold' ? f.decision : null;
    if (!decision) throw new CustodianError('invalid_body', 'choose whether the health professional said to release or to withhold');
    await recordHealthOpinion(ctx, id, { professional: f.professional ?? '', givenOn: (f.givenOn ?? '').trim(), decision, actor });
    return undefined;
  });
  action('answer', async (id, _f, actor) => {
    await issueAccessAnswer(ctx, id, { actor, publicUrl });
    return undefined;
  });
  action('erase', async (id, f, actor) => {
    const keep = ticked(f, 'keep-');
    const reason = f.keepReason === 'dispute' || f.keepReason === 'legal-claims' ? f.keepReason : null;
    if (keep.length > 0 && !reason) throw new CustodianError('invalid_body', 'say why the records ticked are kept: a dispute, or legal claims');
    await fulfilErasure(ctx, id, { actor, keep: keep.map((recordId) => ({ recordId, reason: reason ?? 'dispute' })) });
    return undefined;
  });
  action('rectify', async (id, f, actor) => {
    const record = (f.record ?? '').trim();
    if (!uuid(record)) throw new CustodianError('invalid_body', 'record must be a record id');
    await rectifyRecord(ctx, id, { recordId: record, value: f[`value-${record}`] ?? f.value ?? '', actor });
    return undefined;
  });
  action('restrict', async (id, f, actor) => {
    const chosen = f.which === 'chosen' ? ticked(f, 'record-') : null;
    if (chosen && chosen.length === 0) throw new CustodianError('invalid_body', 'tick the records to restrict, or choose all of them');
    const n = await restrictForRequest(ctx, id, { actor, ...(chosen ? { recordIds: chosen } : {}) });
    return { say: { n: String(n) } };
  });
  action('lift-restriction', async (id, f, actor) => ({ say: { n: String(await liftRestriction(ctx, id, { reason: f.liftReason ?? '', actor })) } }));
  action('object', async (id, f, actor) => {
    const purposes = Object.keys(ctx.register.purposes).filter((p) => f[`object-${p}`]);
    if (purposes.length === 0) throw new CustodianError('invalid_body', 'tick at least one purpose the objection is about');
    const compellingGrounds = purposes.filter((p) => (f[`grounds-${p}`] ?? '').trim()).map((p) => ({ purpose: p, reason: f[`grounds-${p}`] ?? '' }));
    const out = await objectForRequest(ctx, id, { purposes, compellingGrounds, actor });
    return { say: { stopped: out.stopped.join(','), continued: out.continued.join(','), erased: String(out.erased) } };
  });
  action('withdraw-consent', async (id, _f, actor) => {
    const out = await withdrawConsentForRequest(ctx, id, { actor });
    return { say: { n: String(out.withdrawn), erased: String(out.erased) } };
  });
  action('acknowledge', async (id, _f, actor) => {
    await acknowledgeComplaint(ctx, id, { actor });
    return undefined;
  });
  action('notice', async (id, f, actor) => {
    const state = f.state === 'done' || f.state === 'impossible' ? f.state : null;
    if (!state) throw new CustodianError('invalid_body', 'choose done or impossible');
    const reason = f[`reason-${f.notice}`] ?? f.reason;
    await completeNotice(ctx, id, { noticeId: (f.notice ?? '').trim(), state, actor, ...(reason ? { reason } : {}) });
    return undefined;
  });
}

interface RecordItem {
  readonly id: string;
  readonly subject: string;
  readonly field: string;
  readonly category: string;
  /** The plain value, or null when sealed (staff open it on the person's page) or erased. */
  readonly value: string | null;
  readonly sealed: boolean;
  readonly state: string;
}

/** The linked people's records (values sealed stay sealed: nothing here is opened or audited). */
async function recordsOf(ctx: AppContext, subjects: readonly string[], actor: string): Promise<RecordItem[]> {
  const out: RecordItem[] = [];
  for (const s of subjects) {
    const view = await personView(ctx, s, { reveal: false, actor });
    const seen = new Set<string>();
    for (const g of view?.purposes ?? [])
      for (const r of g.records) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        const category = ctx.register.data[r.category];
        out.push({
          id: r.id,
          subject: s,
          field: r.field,
          category: category ? pickText(category.title, 'en') : r.category,
          value: r.value,
          sealed: r.sealed,
          state: r.state,
        });
      }
  }
  return out;
}

/** What the request page shows and offers for fulfilling it (managers only get the forms). */
export async function fulfilPageData(ctx: AppContext, r: RequestView, options: { canManage: boolean; isManager: boolean; actor: string }) {
  const { register } = ctx;
  const row = await getRequest(ctx.db.kysely, r.id);
  const decisions = await decisionsOf(ctx.db.kysely, r.id);
  const open = r.status === 'open';
  const type = r.type;
  // The records are listed (never opened) for the forms, and to name the records in what was decided.
  const needsRecords = (open && options.canManage && ['erasure', 'rectification', 'restriction'].includes(type)) || decisions.length > 0;
  const records = needsRecords && r.subjects.length > 0 ? await recordsOf(ctx, r.subjects, options.actor) : [];
  const fieldOf = new Map(records.map((x) => [x.id, `${x.field} (${x.category})`]));
  const decided = (action: string) => decisions.filter((d) => d.action === action);

  // Access and portability.
  const answer =
    (type === 'access' || type === 'portability') && row
      ? {
          gate: !register.controller['health-professional'],
          opinion: row.health_opinion,
          issued: row.answer_expires_at
            ? {
                until: row.answer_expires_at.toISOString().slice(0, 10),
                on: row.closed_at?.toISOString().slice(0, 10) ?? '',
                disclosed: decided('disclosed').length,
                withheld: decided('withheld').length,
                email: row.contact_email,
              }
            : null,
        }
      : null;

  // Erasure: what was erased and kept, and until when the request is kept as evidence.
  const erasure =
    type === 'erasure' && r.closedAt && decisions.length > 0
      ? {
          erased: decided('erased').length,
          kept: decided('kept').map((d) => ({ id: d.record_id, field: fieldOf.get(d.record_id) ?? null, reason: reasonText(d.reason) })),
          keptUntil: addDuration(new Date(r.closedAt), register.rights['evidence-kept']).toISOString().slice(0, 10),
        }
      : null;

  const restrictedNow = new Set(decided('restricted').map((d) => d.record_id));
  for (const d of decided('unrestricted')) restrictedNow.delete(d.record_id);

  const objectable = Object.entries(register.purposes)
    .filter(([, p]) => p.basis === 'legitimate-interests' || p.basis === 'public-task' || p.channels !== undefined)
    .map(([key, p]) => ({ key, title: pickText(p.title, 'en'), marketing: p.channels !== undefined, basis: p.basis }));

  const notices = r.recipientNotices.map((n) => {
    const recipient = Object.hasOwn(register.recipients, n.recipient) ? register.recipients[n.recipient] : undefined;
    return {
      ...n,
      title: recipient ? pickText(recipient.title, 'en') : n.recipient,
      changeText: CHANGES[n.change] ?? n.change,
      stateText: NOTICE_STATES[n.state] ?? n.state,
      pending: n.state === 'to-send' || n.state === 'sent',
    };
  });

  const evidence =
    options.isManager && r.closedAt
      ? (await requestEvidence(ctx, r.id)).decisions.map((d) => ({
          ...d,
          field: fieldOf.get(d.record) ?? null,
          actionText: ACTIONS[d.action] ?? d.action,
          reasonText: reasonText(d.reason),
          at: d.at.slice(0, 16).replace('T', ' '),
        }))
      : null;

  return {
    answer,
    erasure,
    records: records.filter((x) => x.state !== 'erased').map((x) => ({ ...x, restrictedHere: restrictedNow.has(x.id) })),
    rectified: new Set(decided('rectified').map((d) => d.record_id)),
    canLift: type === 'restriction' && restrictedNow.size > 0,
    restrictedCount: restrictedNow.size,
    objectable,
    acknowledgeBy: type === 'complaint' ? acknowledgeBy(r.receivedOn) : null,
    notices,
    evidence,
  };
}

/** The preview of an access answer in the console's words (values already opened by buildAccessAnswer, audited). */
export function describeAnswer(a: AccessAnswer) {
  return {
    ...a,
    records: a.records.map((x) => ({
      ...x,
      withheldText: x.withheld ? reasonText(x.withheld) : null,
      keptUntilText: x.keptUntil.map((k) => k.until).join('; '),
      collectedOn: x.collectedAt.slice(0, 10),
    })),
  };
}
