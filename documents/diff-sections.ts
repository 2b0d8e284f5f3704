// Change detection for the parts of the register around the purposes: who we are and how to reach us,
// collection points and their fields, cookies.
import type { RegisterData } from '../register/schema.ts';
import { FIRST_PARTY, STRICTLY_NECESSARY } from '../register/vocabulary.ts';
import { compareDurations } from '../core/duration.ts';
import { describeDuration } from './describe-duration.ts';
import { compareKeys, en, lowerFirst, quote, same, t, type Emit } from './diff-change.ts';

export function diffContacts(a: RegisterData, b: RegisterData, emit: Emit): void {
  const ca = a.controller;
  const cb = b.controller;
  if (ca.name !== cb.name)
    emit('controller-changed', 'controller.name', 'material', `The organisation responsible for your data is now ${cb.name} (it was ${ca.name}).`);
  if (ca.jurisdiction !== cb.jurisdiction) {
    emit(
      'jurisdiction-changed',
      'controller.jurisdiction',
      'material',
      `Your data is now protected under ${cb.jurisdiction === 'uk' ? 'UK' : 'EU'} data protection law (it was ${ca.jurisdiction === 'uk' ? 'UK' : 'EU'} law).`,
    );
  }
  const contact: [string, unknown, unknown][] = [
    ['address', t(ca.address), t(cb.address)],
    ['email', ca.email, cb.email],
    ['telephone number', ca.phone, cb.phone],
    ['website', ca.website, cb.website],
  ];
  for (const [what, before, after] of contact) {
    if (before !== after)
      emit('controller-contact-changed', 'controller', 'minor', after ? `Our ${what} is now ${String(after)}.` : `We no longer list our ${what}.`);
  }
  const people: [string, string, RegisterData['controller']['dpo'], RegisterData['controller']['dpo']][] = [
    ['dpo-changed', 'data protection officer', ca.dpo, cb.dpo],
    ['representative-changed', 'representative', ca.representative, cb.representative],
  ];
  for (const [kind, who, before, after] of people) {
    if (same(before, after)) continue;
    const reach = after ? [after.name, after.email, after.phone, t(after.address)].filter(Boolean).join(', ') : '';
    const text = !before
      ? `We now have a ${who}${reach ? `: ${reach}` : ''}.`
      : !after
        ? `We no longer list a ${who}.`
        : `The contact details of our ${who} changed${reach ? `: ${reach}` : ''}.`;
    emit(kind, `controller.${kind === 'dpo-changed' ? 'dpo' : 'representative'}`, 'minor', text);
  }
  if (!same(ca.authority, cb.authority)) {
    emit(
      'authority-changed',
      'controller.authority',
      'minor',
      cb.authority ? `You can now complain to ${t(cb.authority.name)}.` : 'We changed the supervisory authority you can complain to.',
    );
  }
  const ra = a.rights;
  const rb = b.rights;
  if (ra.email !== rb.email || ra.url !== rb.url || !same(ra.post, rb.post) || ra.phone !== rb.phone) {
    const ways = [rb.email, rb.url, t(rb.post), rb.phone].filter(Boolean).join(', ');
    emit('rights-contact-changed', 'rights', 'minor', `How to use your rights changed${ways ? `: contact us at ${ways}` : ''}.`);
  }
  if (ra['further-copy-fee'] !== rb['further-copy-fee']) {
    emit(
      'rights-fee-changed',
      'rights.further-copy-fee',
      'minor',
      rb['further-copy-fee']
        ? `Further copies of your data now cost ${rb['further-copy-fee']}; the first copy stays free.`
        : 'We no longer set a fixed fee for further copies of your data.',
    );
  }
  if (ra.identity !== rb.identity) {
    emit(
      'rights-identity-changed',
      'rights.identity',
      'minor',
      rb.identity === 'always'
        ? 'We now always ask for proof of identity before acting on a rights request.'
        : 'We now ask for proof of identity only when we have reasonable doubts about who you are.',
    );
  }
  const headings = (r: RegisterData) => r.notice.extra.map((x) => t(x.heading));
  for (const h of headings(b).filter((x) => !headings(a).includes(x)))
    emit('notice-section-added', 'notice.extra', 'minor', `This notice has a new section: ${quote(h)}.`);
  for (const x of b.notice.extra) {
    const old = a.notice.extra.find((y) => t(y.heading) === t(x.heading));
    if (old && !same(old.text, x.text)) emit('notice-section-changed', 'notice.extra', 'minor', `We updated the section ${quote(t(x.heading))}.`);
  }
  // A statement withdrawn ("we do not sell your data") takes away a commitment people may rely on.
  const statement = {
    'no-sale': en.recipients.noSale,
    'no-marketing-sharing': en.recipients.noMarketingSharing,
    'gdpr-principles': 'We follow the principles of data protection law.',
  };
  for (const k of a.notice.statements.filter((x) => !b.notice.statements.includes(x)))
    emit('statement-removed', 'notice.statements', 'material', `This notice no longer states: ${quote(statement[k])}`);
  for (const k of b.notice.statements.filter((x) => !a.notice.statements.includes(x)))
    emit('statement-added', 'notice.statements', 'minor', `This notice now states: ${quote(statement[k])}`);
  if (!same(a.security, b.security)) emit('security-changed', 'security', 'minor', 'We updated how we protect your information.');
}

function fieldLabel(name: string, field: RegisterData['collection'][string]['fields'][string]): string {
  return field.label ? t(field.label) : name.replace(/[._-]+/g, ' ');
}

export function diffCollection(a: RegisterData, b: RegisterData, emit: Emit): void {
  const keys = compareKeys(a.collection, b.collection);
  for (const k of keys.added) {
    const point = b.collection[k]!;
    const asks = Object.entries(point.fields)
      .map(([n, f]) => lowerFirst(fieldLabel(n, f)))
      .join('; ');
    emit(
      'collection-added',
      `collection.${k}`,
      'material',
      `We now collect information through a new form or channel: ${t(point.title)} (asking for: ${asks}).`,
    );
  }
  for (const k of keys.removed)
    emit('collection-removed', `collection.${k}`, 'minor', `We no longer collect information through: ${t(a.collection[k]!.title)}.`);
  for (const k of keys.both) {
    const pa = a.collection[k]!;
    const pb = b.collection[k]!;
    const title = quote(t(pb.title));
    const before = new Set(Object.values(pa.fields).map((f) => f.data));
    const fields = compareKeys(pa.fields, pb.fields);
    for (const name of fields.added) {
      const f = pb.fields[name]!;
      // A field for a category this point already collects is minor; a new kind of data here is material.
      const severity = before.has(f.data) ? 'minor' : 'material';
      emit(
        'field-added',
        `collection.${k}.fields.${name}`,
        severity,
        `${title} now asks for: ${lowerFirst(fieldLabel(name, f))} (${lowerFirst(t(b.data[f.data]?.title ?? f.data))}).`,
      );
    }
    for (const name of fields.removed)
      emit('field-removed', `collection.${k}.fields.${name}`, 'minor', `${title} no longer asks for: ${lowerFirst(fieldLabel(name, pa.fields[name]!))}.`);
    for (const name of fields.both) {
      const fa = pa.fields[name]!;
      const fb = pb.fields[name]!;
      if (fa.required !== fb.required) {
        emit(
          'field-required-changed',
          `collection.${k}.fields.${name}`,
          fb.required ? 'material' : 'minor',
          `In ${title}, ${lowerFirst(fieldLabel(name, fb))} is now ${fb.required ? 'required' : 'optional'}.`,
        );
      }
    }
    if (pa.source !== pb.source)
      emit(
        'collection-source-changed',
        `collection.${k}.source`,
        'material',
        `The information in ${title} now comes from ${pb.source === 'subject' ? 'you' : t(b.subjects[pb.source]?.title ?? b.sources[pb.source]?.title ?? pb.source)}.`,
      );
  }
}

const lasts = (x: string) => (x === 'session' ? 'until you close your browser' : describeDuration(x, 'en'));

export function diffCookies(a: RegisterData, b: RegisterData, emit: Emit): void {
  const keys = compareKeys(a.cookies, b.cookies);
  const purposeOf = (r: RegisterData, p: string) => (p === STRICTLY_NECESSARY ? 'strictly necessary' : t(r.purposes[p]?.title ?? p));
  const providerOf = (r: RegisterData, p: string) => (p === FIRST_PARTY ? 'us' : t(r.recipients[p]?.title ?? p));
  for (const k of keys.added) {
    const c = b.cookies[k]!;
    emit(
      'cookie-added',
      `cookies.${k}`,
      c.purpose === STRICTLY_NECESSARY ? 'minor' : 'material',
      `New cookie: ${c.names.join(', ')} (${purposeOf(b, c.purpose)}, ${lasts(c.lasts)}).`,
    );
  }
  for (const k of keys.removed) emit('cookie-removed', `cookies.${k}`, 'minor', `We no longer use the cookie ${a.cookies[k]!.names.join(', ')}.`);
  for (const k of keys.both) {
    const ca = a.cookies[k]!;
    const cb = b.cookies[k]!;
    const names = cb.names.join(', ');
    const key = `cookies.${k}`;
    if (ca.lasts !== cb.lasts) {
      const order = ca.lasts === 'session' ? 1 : cb.lasts === 'session' ? -1 : compareDurations(cb.lasts, ca.lasts);
      if (order > 0) emit('cookie-longer', key, 'material', `The cookie ${names} now lasts longer: ${lasts(ca.lasts)} → ${lasts(cb.lasts)}.`);
      else if (order < 0) emit('cookie-shorter', key, 'minor', `The cookie ${names} now lasts a shorter time: ${lasts(ca.lasts)} → ${lasts(cb.lasts)}.`);
    }
    if (ca.purpose !== cb.purpose)
      emit(
        'cookie-purpose-changed',
        key,
        'material',
        `The cookie ${names} is now used for: ${purposeOf(b, cb.purpose)} (it was: ${purposeOf(a, ca.purpose)}).`,
      );
    if (ca.provider !== cb.provider)
      emit(
        'cookie-provider-changed',
        key,
        'material',
        `The cookie ${names} is now set by ${providerOf(b, cb.provider)} (it was ${providerOf(a, ca.provider)}).`,
      );
    const newNames = cb.names.filter((n) => !ca.names.includes(n));
    if (newNames.length && ca.purpose === cb.purpose)
      emit(
        'cookie-names-added',
        key,
        cb.purpose === STRICTLY_NECESSARY ? 'minor' : 'material',
        `New cookie: ${newNames.join(', ')} (${purposeOf(b, cb.purpose)}, ${lasts(cb.lasts)}).`,
      );
    if (ca.exemption !== cb.exemption)
      emit(
        'cookie-consent-changed',
        key,
        cb.exemption ? 'material' : 'minor',
        cb.exemption
          ? `The cookie ${names} no longer needs your consent (UK ${cb.exemption} exemption); you can still object.`
          : `The cookie ${names} now needs your consent.`,
      );
  }
}
