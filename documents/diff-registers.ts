// What changed between two versions of the register, in plain words for the people the notice addresses:
// new purposes, recipients, transfers, longer retention, new cookies and data. Material changes come first.
import type { Register } from '../register/load-register.ts';
import type { RegisterData, Retention } from '../register/schema.ts';
import { compareDurations, isDuration, isZeroDuration } from '../core/duration.ts';
import { describeDuration } from './describe-duration.ts';
import { categoryTitles, compareKeys, en, quote, same, t, whereAndSafeguard, type Change, type Emit } from './diff-change.ts';
import { diffCollection, diffContacts, diffCookies } from './diff-sections.ts';
import { eventPhrase, phraseRetention } from './phrase-retention.ts';

export type { Change };
export { renderDiff } from './render-diff.ts';

export function diffRegisters(old: Register, next: Register): Change[] {
  const changes: Change[] = [];
  const emit: Emit = (kind, key, severity, text) => changes.push({ kind, key, severity, text });
  diffContacts(old, next, emit);
  diffPurposes(old, next, emit);
  diffRecipients(old, next, emit);
  diffData(old, next, emit);
  diffCollection(old, next, emit);
  diffCookies(old, next, emit);
  // Stable: material first, each group in the order found.
  return [...changes.filter((c) => c.severity === 'material'), ...changes.filter((c) => c.severity === 'minor')];
}

function diffPurposes(a: RegisterData, b: RegisterData, emit: Emit): void {
  const keys = compareKeys(a.purposes, b.purposes);
  for (const k of keys.added) {
    const p = b.purposes[k]!;
    emit('purpose-added', `purposes.${k}`, 'material', `We now use your data for a new purpose: ${t(p.title)} (legal basis: ${en.basisShort[p.basis]}).`);
  }
  for (const k of keys.removed) emit('purpose-removed', `purposes.${k}`, 'minor', `We no longer use your data for: ${t(a.purposes[k]!.title)}.`);
  for (const k of keys.both) {
    const pa = a.purposes[k]!;
    const pb = b.purposes[k]!;
    const title = quote(t(pb.title));
    const key = `purposes.${k}`;
    if (t(pa.title) !== t(pb.title)) emit('purpose-renamed', key, 'minor', `We renamed the purpose ${quote(t(pa.title))}: it is now called ${title}.`);
    else if (!same(pa.description, pb.description)) emit('purpose-described', key, 'minor', `We updated the description of ${title}.`);
    if (pa.basis !== pb.basis) {
      emit('purpose-basis-changed', key, 'material', `We changed the legal basis for ${title}: ${en.basisShort[pa.basis]} → ${en.basisShort[pb.basis]}.`);
    } else if (!same(pa.interest, pb.interest) && pb.interest) {
      emit('purpose-interest-changed', key, 'material', `We changed the legitimate interest we rely on for ${title}: now "${t(pb.interest)}".`);
    }
    if (pa.condition !== pb.condition) {
      const c = (x: typeof pa.condition) => (x ? en.conditionShort[x] : 'none');
      emit(
        'purpose-condition-changed',
        key,
        'material',
        `We changed the condition for using special category data for ${title}: ${c(pa.condition)} → ${c(pb.condition)}.`,
      );
    }
    const addedData = pb.data.filter((d) => !pa.data.includes(d));
    const removedData = pa.data.filter((d) => !pb.data.includes(d));
    if (addedData.length) emit('purpose-data-added', key, 'material', `For ${title} we now also use: ${categoryTitles(b, addedData)}.`);
    if (removedData.length) emit('purpose-data-removed', key, 'minor', `For ${title} we no longer use: ${categoryTitles(a, removedData)}.`);
    const addedSubjects = pb.subjects.filter((x) => !pa.subjects.includes(x));
    if (addedSubjects.length)
      emit(
        'purpose-subjects-added',
        key,
        'material',
        `For ${title} we now also use data about: ${addedSubjects.map((x) => t(b.subjects[x]?.title ?? x)).join('; ')}.`,
      );
    for (const rk of pb.recipients.filter((x) => !pa.recipients.includes(x))) {
      // A recipient new to the whole register is announced once, under recipients.
      if (usedRecipients(a).has(rk))
        emit(
          'purpose-recipient-added',
          key,
          'material',
          `For ${title} we now also share your data with ${t(b.recipients[rk]?.title ?? rk)} ${whereAndSafeguard(b, rk)}.`,
        );
    }
    for (const rk of pa.recipients.filter((x) => !pb.recipients.includes(x))) {
      if (usedRecipients(b).has(rk))
        emit('purpose-recipient-removed', key, 'minor', `For ${title} we no longer share your data with ${t(a.recipients[rk]?.title ?? rk)}.`);
    }
    diffRetention(a, b, k, emit);
    diffMarketing(pa, pb, title, key, emit);
    diffSoftOptIn(a, b, k, title, emit);
    if (!pa.automated && pb.automated) emit('automated-added', key, 'material', `We now make automated decisions for ${title}: ${t(pb.automated.logic)}.`);
    if (pa.automated && !pb.automated) emit('automated-removed', key, 'minor', `We no longer make automated decisions for ${title}.`);
    if (pa['consent-lasts'] !== pb['consent-lasts'] && pb['consent-lasts']) {
      emit('consent-lasts-changed', key, 'minor', `Your consent for ${title} now lasts ${describeDuration(pb['consent-lasts'], 'en')}.`);
    }
    for (const sk of pb.sources.filter((x) => !pa.sources.includes(x))) {
      emit('purpose-source-added', key, 'material', `For ${title} we now also receive information about you from ${t(b.sources[sk]?.title ?? sk)}.`);
    }
  }
}

function diffMarketing(pa: RegisterData['purposes'][string], pb: RegisterData['purposes'][string], title: string, key: string, emit: Emit): void {
  const ca = pa.channels ?? {};
  const cb = pb.channels ?? {};
  const name = (c: string) => en.marketingChannel[c as keyof typeof en.marketingChannel].toLowerCase();
  for (const [channel, rule] of Object.entries(cb)) {
    const before = ca[channel as keyof typeof ca];
    if (!before)
      emit(
        'marketing-channel-added',
        `${key}.channels.${channel}`,
        'material',
        `For ${title} we may now contact you by ${name(channel)}, ${en.marketingRule[rule]}.`,
      );
    else if (before !== rule) {
      const looser = rule === 'opt-out' || (rule === 'soft-opt-in' && before === 'opt-in');
      emit(
        'marketing-rule-changed',
        `${key}.channels.${channel}`,
        looser ? 'material' : 'minor',
        `For ${title}, marketing by ${name(channel)} now happens ${en.marketingRule[rule]}.`,
      );
    }
  }
  for (const channel of Object.keys(ca).filter((c) => !(c in cb))) {
    emit('marketing-channel-removed', `${key}.channels.${channel}`, 'minor', `For ${title} we no longer contact you by ${name(channel)}.`);
  }
}

/**
 * Where a soft opt-in arises (PECR reg. 22(3)): a form or channel whose use now lets us send a purpose's marketing
 * without consent is material; one that no longer does is minor.
 */
function diffSoftOptIn(a: RegisterData, b: RegisterData, k: string, title: string, emit: Emit): void {
  const pa = a.purposes[k]!;
  const pb = b.purposes[k]!;
  const before = new Set((pa['soft-opt-in'] ?? []).map((s) => s.point));
  const after = new Set((pb['soft-opt-in'] ?? []).map((s) => s.point));
  const channels = Object.entries(pb.channels ?? {})
    .filter(([, rule]) => rule === 'soft-opt-in')
    .map(([c]) => en.marketingChannel[c as keyof typeof en.marketingChannel].toLowerCase())
    .join(' or ');
  for (const s of pb['soft-opt-in'] ?? []) {
    if (before.has(s.point)) continue;
    const point = quote(t(b.collection[s.point]?.title ?? s.point));
    const sale = s.sale ? ` (${t(s.sale)})` : '';
    emit(
      'soft-opt-in-added',
      `purposes.${k}.soft-opt-in.${s.point}`,
      'material',
      `For ${title} we may now contact you by ${channels || 'email'} without asking for your consent once you have used ${point}${sale}, unless you tick its box to refuse; you can still refuse in every message.`,
    );
  }
  for (const s of pa['soft-opt-in'] ?? []) {
    if (after.has(s.point)) continue;
    const point = quote(t(a.collection[s.point]?.title ?? s.point));
    emit(
      'soft-opt-in-removed',
      `purposes.${k}.soft-opt-in.${s.point}`,
      'minor',
      `For ${title} using ${point} no longer means we may contact you without your consent.`,
    );
  }
}

/** Compares two retention rules: +1 when the new one keeps data longer, -1 shorter, 0 same, NaN not comparable. */
function compareRetention(a: Retention, b: Retention): number {
  if (same(a, b)) return 0;
  if (a.after !== b.after || !isDuration(a.keep) || !isDuration(b.keep)) return a.keep === b.keep && a.after === b.after ? compareTail(a, b) : Number.NaN;
  const keep = compareDurations(b.keep, a.keep);
  const age = Math.sign((b['until-age'] ?? 0) - (a['until-age'] ?? 0));
  if (keep !== 0 && age !== 0 && keep !== age) return Number.NaN;
  const first = keep || age;
  if (first !== 0) return a.then === b.then && same(a.finally, b.finally) ? first : Number.NaN;
  return compareTail(a, b);
}

/** Same period, different ending: only a longer or shorter final stage is comparable. */
function compareTail(a: Retention, b: Retention): number {
  if (a.then === b.then && same(a.finally, b.finally)) return 0;
  if (a.then !== b.then || !a.finally || !b.finally || a.finally.then !== b.finally.then) return Number.NaN;
  return compareDurations(b.finally.keep, a.finally.keep);
}

function diffRetention(a: RegisterData, b: RegisterData, k: string, emit: Emit): void {
  const ra = a.purposes[k]!.retention;
  const rb = b.purposes[k]!.retention;
  const order = compareRetention(ra, rb);
  if (order === 0) return;
  const title = quote(t(b.purposes[k]!.title));
  const key = `purposes.${k}.retention`;
  // "8 years → 11 years after your scan is completed" when only the period moved; whole phrases otherwise.
  const onlyPeriod =
    isDuration(ra.keep) &&
    isDuration(rb.keep) &&
    !isZeroDuration(ra.keep) &&
    !isZeroDuration(rb.keep) &&
    ra.after === rb.after &&
    ra['until-age'] === rb['until-age'] &&
    ra.then === rb.then &&
    same(ra.finally, rb.finally);
  const change = onlyPeriod
    ? `${describeDuration(ra.keep, 'en')} → ${describeDuration(rb.keep, 'en')}${rb.after ? ` after ${eventPhrase(b, rb.after, 'en')}` : ''}`
    : `${phraseRetention(a, ra, 'en')} → ${phraseRetention(b, rb, 'en')}`;
  if (order > 0) emit('retention-longer', key, 'material', `We now keep data for ${title} longer: ${change}.`);
  else if (order < 0) emit('retention-shorter', key, 'minor', `We now keep data for ${title} for a shorter time: ${change}.`);
  else emit('retention-changed', key, 'material', `We changed how long we keep data for ${title}: ${change}.`);
}

function usedRecipients(r: RegisterData): Set<string> {
  return new Set(Object.values(r.purposes).flatMap((p) => p.recipients));
}

function diffRecipients(a: RegisterData, b: RegisterData, emit: Emit): void {
  const before = usedRecipients(a);
  const after = usedRecipients(b);
  for (const k of after) {
    const rb = b.recipients[k];
    if (!rb) continue;
    const key = `recipients.${k}`;
    if (!before.has(k)) {
      const data = new Set(
        Object.values(b.purposes)
          .filter((p) => p.recipients.includes(k))
          .flatMap((p) => p.data),
      );
      emit('recipient-added', key, 'material', `We now share ${categoryTitles(b, data)} with a new recipient: ${t(rb.title)} ${whereAndSafeguard(b, k)}.`);
      continue;
    }
    const ra = a.recipients[k];
    if (!ra) continue;
    if (ra.country !== rb.country) {
      emit(
        'recipient-country-changed',
        key,
        'material',
        `${t(rb.title)} now receives your data in a different country: ${whereAndSafeguard(a, k).slice(1, -1)} → ${whereAndSafeguard(b, k).slice(1, -1)}.`,
      );
    } else if (ra.transfer?.safeguard !== rb.transfer?.safeguard) {
      emit(
        'transfer-safeguard-changed',
        key,
        'material',
        `The safeguard for sending your data to ${t(rb.title)} ${whereAndSafeguard(b, k)} changed from ${en.safeguardShort[ra.transfer?.safeguard ?? 'adequacy']}.`,
      );
    }
    if (ra.role !== rb.role)
      emit('recipient-role-changed', key, 'material', `${t(rb.title)} is now a ${en.roleShort[rb.role]} (was a ${en.roleShort[ra.role]}).`);
    const names = rb.names.filter((n) => !ra.names.includes(n));
    if (names.length) emit('recipient-names-added', key, 'material', `${t(rb.title)} now includes: ${names.join('; ')}.`);
  }
  for (const k of before) {
    if (!after.has(k)) emit('recipient-removed', `recipients.${k}`, 'minor', `We no longer share your data with: ${t(a.recipients[k]?.title ?? k)}.`);
  }
}

function usedData(r: RegisterData): Set<string> {
  return new Set(Object.values(r.purposes).flatMap((p) => p.data));
}

function diffData(a: RegisterData, b: RegisterData, emit: Emit): void {
  const before = usedData(a);
  const after = usedData(b);
  for (const k of after) {
    const cb = b.data[k];
    if (!cb) continue;
    const key = `data.${k}`;
    if (!before.has(k)) {
      if (cb.special) emit('special-data-added', key, 'material', `We now collect special category data (${en.special[cb.special]}): ${t(cb.title)}.`);
      else emit('data-added', key, 'material', `We now collect a new kind of information: ${t(cb.title)}.`);
    } else if (cb.special && a.data[k]?.special !== cb.special) {
      emit('data-now-special', key, 'material', `We now treat ${t(cb.title)} as special category data (${en.special[cb.special]}).`);
    }
  }
  for (const k of before) if (!after.has(k)) emit('data-removed', `data.${k}`, 'minor', `We no longer collect: ${t(a.data[k]?.title ?? k)}.`);
}
