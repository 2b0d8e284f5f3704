// The rules that relate parts of a register to one another (REGISTER.md). The schema has already checked
// shapes and types; here every reference must resolve and every promise must be lawful as declared.
import type { Severity, YamlPath } from './problems.ts';
import { didYouMean } from './problems.ts';
import type { RegisterData } from './schema.ts';
import { DURATION_PATTERN, OPEN_ENDED_KEEPS } from './schema.ts';
import {
  ADEQUACY_CHECKED,
  BUILT_IN_EVENTS,
  FIRST_PARTY,
  SOURCE_SUBJECT,
  STRICTLY_NECESSARY,
  transferNeedsSafeguard,
  UK_EEA,
} from './vocabulary.ts';

export interface RuleProblem {
  readonly severity: Severity;
  readonly path: YamlPath;
  readonly message: string;
  /** Point at the key itself rather than its value (for "unused" warnings). */
  readonly at?: 'key' | 'value';
}

export function checkRules(r: RegisterData): RuleProblem[] {
  const out: RuleProblem[] = [];
  const error = (path: YamlPath, message: string) => out.push({ severity: 'error', path, message });
  const warn = (path: YamlPath, message: string, at: 'key' | 'value' = 'value') =>
    out.push({ severity: 'warning', path, message, at });

  const subjects = Object.keys(r.subjects);
  const data = Object.keys(r.data);
  const purposes = Object.keys(r.purposes);
  const recipients = Object.keys(r.recipients);
  const sources = Object.keys(r.sources);
  const events = [...Object.keys(BUILT_IN_EVENTS), ...Object.keys(r.events)];

  const used = { subjects: new Set<string>(), data: new Set<string>(), recipients: new Set<string>(), sources: new Set<string>(), events: new Set<string>() };

  const ref = (path: YamlPath, key: string, pool: string[], what: string, usedSet?: Set<string>) => {
    if (typeof key !== 'string') return false; // malformed: the schema has already reported it
    if (pool.includes(key)) {
      usedSet?.add(key);
      return true;
    }
    error(path, `${what} "${key}" is not declared${didYouMean(key, pool)}`);
    return false;
  };

  // Purposes: basis, Art. 9 condition, references, retention, marketing channels.
  for (const [pk, p] of Object.entries(r.purposes)) {
    const at = ['purposes', pk] as const;
    p.subjects.forEach((s, i) => ref([...at, 'subjects', i], s, subjects, 'subject kind', used.subjects));
    p.data.forEach((d, i) => ref([...at, 'data', i], d, data, 'data category', used.data));
    p.recipients.forEach((x, i) => ref([...at, 'recipients', i], x, recipients, 'recipient', used.recipients));
    p.sources.forEach((x, i) => ref([...at, 'sources', i], x, sources, 'source', used.sources));

    if (p.basis === 'legitimate-interests' && !p.interest) {
      error([...at, 'basis'], 'legitimate interests must name the interest pursued: add "interest:" with a sentence the notice can show');
    }
    if (p.basis !== 'legitimate-interests' && p.interest) {
      warn([...at, 'interest'], `"interest" is only shown for legitimate interests; this purpose's basis is ${p.basis}`);
    }
    if (p.basis === 'legal-obligation' && !p.law) {
      warn([...at, 'basis'], 'a legal obligation should name the law that requires it: add "law:"');
    }
    if (p.basis === 'consent' && !p.withdraw && !r.rights.email && !r.rights.url && !r.controller.email) {
      error([...at, 'basis'], 'consent must be as easy to withdraw as to give: add "withdraw:" saying how, or an email or URL under "rights:"');
    }

    const special = p.data.filter((d) => r.data[d]?.special);
    if (special.length > 0 && !p.condition) {
      error([...at, 'data'], `uses special category data (${special.join(', ')}) so it must name an Art. 9(2) condition: add "condition:" (for example health-care or explicit-consent)`);
    }
    if (special.length === 0 && p.condition) {
      warn([...at, 'condition'], 'an Art. 9 condition is only needed when the purpose uses special category data');
    }
    if (p.condition === 'explicit-consent' && p.basis !== 'consent') {
      warn([...at, 'condition'], 'explicit consent as the Art. 9 condition normally goes with consent as the basis');
    }

    checkRetention(p, at, events, used.events, error);

    if (p.channels) {
      for (const [channel, rule] of Object.entries(p.channels)) {
        const cp = [...at, 'channels', channel];
        if ((channel === 'email' || channel === 'sms') && rule === 'opt-out') {
          error(cp, `${channel} marketing needs prior consent under PECR reg. 22: use opt-in, or soft-opt-in for existing customers' similar products`);
        }
        if (rule === 'soft-opt-in' && channel !== 'email' && channel !== 'sms') {
          error(cp, 'the soft opt-in applies only to email and SMS marketing');
        }
        if (channel === 'automated-call' && rule !== 'opt-in') {
          error(cp, 'automated marketing calls always need prior consent (PECR reg. 19): use opt-in');
        }
        if (rule === 'opt-in' && p.basis !== 'consent') {
          warn(cp, `opt-in ${channel} marketing relies on consent under PECR; the ICO expects consent as the lawful basis too, so consider a separate consent purpose`);
        }
      }
    }
    if (p.automated && p.basis === 'legitimate-interests') {
      warn([...at, 'automated'], 'solely automated decisions with significant effects need contract, law or explicit consent (Art. 22(2))');
    }
    if (p['consent-lasts'] && p.basis !== 'consent') {
      warn([...at, 'consent-lasts'], '"consent-lasts" only applies to consent purposes');
    }
  }

  // Recipients: transfers abroad need a safeguard.
  for (const [rk, rec] of Object.entries(r.recipients)) {
    const at = ['recipients', rk];
    const needs = transferNeedsSafeguard(rec.country);
    if (needs && !rec.transfer) {
      error([...at, 'country'], `${rec.country} is outside the UK/EEA and has no adequacy decision (list checked ${ADEQUACY_CHECKED}): add "transfer: { safeguard: ... }" (scc, idta, uk-addendum, bcr, dpf or derogation)`);
    }
    if (needs && rec.transfer?.safeguard === 'adequacy') {
      error([...at, 'transfer', 'safeguard'], `${rec.country} has no adequacy decision (list checked ${ADEQUACY_CHECKED}): name the safeguard actually used`);
    }
    if (UK_EEA.has(rec.country) && rec.transfer) {
      warn([...at, 'transfer'], `${rec.country} is in the UK/EEA: no transfer safeguard is needed`);
    }
    if ((rec.role === 'processor' || rec.role === 'sub-processor') && rec.agreement === false) {
      error([...at, 'agreement'], 'a processor must be bound by a contract under Art. 28(3)');
    }
  }

  // Cookies: anything not strictly necessary maps to a consent purpose (or a declared UK exemption).
  for (const [ck, c] of Object.entries(r.cookies)) {
    const at = ['cookies', ck];
    if (c.provider !== FIRST_PARTY) ref([...at, 'provider'], c.provider, [FIRST_PARTY, ...recipients], 'cookie provider', used.recipients);
    if (c.purpose === STRICTLY_NECESSARY) {
      if (c.exemption) warn([...at, 'exemption'], 'strictly necessary cookies need no exemption');
      continue;
    }
    if (!ref([...at, 'purpose'], c.purpose, [STRICTLY_NECESSARY, ...purposes], 'cookie purpose')) continue;
    const purpose = r.purposes[c.purpose];
    if (!purpose || purpose.basis === 'consent') continue;
    if (!c.exemption) {
      error([...at, 'purpose'], `a cookie that is not strictly necessary needs consent, but purpose "${c.purpose}" is based on ${purpose.basis}: map it to a consent purpose${r.controller.jurisdiction === 'uk' ? ', or declare a UK exemption (statistics, appearance)' : ''}`);
    } else if (r.controller.jurisdiction !== 'uk') {
      error([...at, 'exemption'], 'the statistics and appearance exemptions exist only under UK PECR (DUAA 2025); in the EU these cookies need consent');
    } else if (c.exemption === 'statistics' && c.provider !== FIRST_PARTY) {
      error([...at, 'exemption'], 'the statistics exemption covers first-party aggregate statistics only; a third-party analytics cookie needs consent');
    }
  }

  // Collection points: every field maps to a category that one of the point's purposes uses.
  for (const [ck, c] of Object.entries(r.collection)) {
    const at = ['collection', ck];
    ref([...at, 'subject'], c.subject, subjects, 'subject kind', used.subjects);
    const validPurposes = c.purposes.filter((p, i) => ref([...at, 'purposes', i], p, purposes, 'purpose'));
    if (c.source !== SOURCE_SUBJECT) ref([...at, 'source'], c.source, [SOURCE_SUBJECT, ...subjects, ...sources], 'source', c.source in r.sources ? used.sources : used.subjects);
    if (c.starts) ref([...at, 'starts'], c.starts, events, 'event', used.events);
    const purposeData = new Set(validPurposes.flatMap((p) => r.purposes[p]!.data));
    for (const [fk, f] of Object.entries(c.fields)) {
      const fp = [...at, 'fields', fk];
      if (!ref([...fp, 'data'], f.data, data, 'data category', used.data)) continue;
      if (validPurposes.length > 0 && !purposeData.has(f.data)) {
        error([...fp, 'data'], `"${f.data}" is collected here but none of this point's purposes (${validPurposes.join(', ')}) lists it under "data"`);
      }
      if (f.type === 'choice' && !f.choices?.length) error([...fp, 'type'], 'a choice field must list its "choices"');
      if (f.choices && f.type !== 'choice') warn([...fp, 'choices'], '"choices" only applies to fields of type choice');
      if (f.consent) {
        const target = r.purposes[f.consent];
        if (f.type !== 'boolean') error([...fp, 'type'], 'a consent checkbox must have type boolean');
        if (!ref([...fp, 'consent'], f.consent, purposes, 'purpose')) continue;
        if (target!.basis !== 'consent') error([...fp, 'consent'], `"${f.consent}" is based on ${target!.basis}, not consent: a checkbox cannot give consent to it`);
        if (!c.purposes.includes(f.consent)) error([...fp, 'consent'], `"${f.consent}" is not one of this point's purposes`);
        if (f.channel && !target!.channels?.[f.channel]) error([...fp, 'channel'], `"${f.consent}" does not declare the ${f.channel} channel`);
        if (f.required) error([...fp, 'required'], 'consent must be freely given: a consent checkbox cannot be required (no pre-ticked or mandatory boxes)');
      } else if (f.channel) error([...fp, 'channel'], '"channel" only applies to consent checkboxes');
      if (f['birth-date'] && f.type !== 'date') error([...fp, 'type'], 'a birth-date field must have type date');
      if (f.identifier === 'email' && f.type !== 'email') error([...fp, 'type'], 'an email identifier must have type email');
      if (f.identifier === 'phone' && f.type !== 'phone') error([...fp, 'type'], 'a phone identifier must have type phone');
    }
    if (Object.keys(c.fields).length === 0) error([...at, 'fields'], 'a collection point must declare at least one field');
    if (Object.values(c.fields).filter((f) => f['birth-date']).length > 1) error([...at, 'fields'], 'at most one field of a collection point can be the birth-date');
    const untilAge = validPurposes.filter((p) => r.purposes[p]!.retention['until-age']);
    if (untilAge.length > 0 && !Object.values(c.fields).some((f) => f['birth-date']) && Object.values(c.fields).some((f) => f.type === 'date')) {
      warn([...at, 'fields'], `${untilAge.join(', ')} keep${untilAge.length === 1 ? 's' : ''} data until an age: mark the date-of-birth field with "birth-date: true" so the date can be worked out`);
    }
    for (const p of validPurposes) {
      if (r.purposes[p]!.basis === 'consent' && !Object.values(c.fields).some((f) => f.consent === p)) {
        warn([...at, 'purposes'], `"${p}" is based on consent, but this form has no checkbox giving it (add a boolean field with "consent: ${p}")`);
      }
    }
    const subjectInPurposes = validPurposes.some((p) => r.purposes[p]!.subjects.includes(c.subject));
    if (validPurposes.length > 0 && !subjectInPurposes) {
      warn([...at, 'subject'], `none of this point's purposes lists "${c.subject}" under "subjects"`);
    }
  }

  // Processor role: Art. 30(2) record needs the controllers served and the processing done for them.
  const isProcessor = r.controller.roles.includes('processor');
  if (isProcessor && !r.processing) {
    error(['controller', 'roles'], 'a business acting as processor must describe that processing under "processing:" (controllers and activities) for its Art. 30(2) record');
  }
  if (!isProcessor && r.processing) warn(['processing'], '"processing" is only used when controller.roles includes processor');
  if (r.processing) {
    const controllers = Object.keys(r.processing.controllers);
    for (const [ak, a] of Object.entries(r.processing.activities)) {
      const at = ['processing', 'activities', ak];
      a.controllers.forEach((x, i) => ref([...at, 'controllers', i], x, controllers, 'controller'));
      a.data.forEach((x, i) => ref([...at, 'data', i], x, data, 'data category', used.data));
      a.subjects.forEach((x, i) => ref([...at, 'subjects', i], x, subjects, 'subject kind', used.subjects));
      a.recipients.forEach((x, i) => ref([...at, 'recipients', i], x, recipients, 'recipient', used.recipients));
    }
  }

  const accessLog = r.service['access-log'];
  if (accessLog) {
    const purpose = r.purposes[accessLog.purpose];
    if (!purpose) ref(['service', 'access-log', 'purpose'], accessLog.purpose, purposes, 'purpose');
    else if (!DURATION_PATTERN.test(purpose.retention.keep)) {
      error(['service', 'access-log', 'purpose'], `the access log needs a fixed retention period, but "${accessLog.purpose}" keeps data ${purpose.retention.keep}`);
    }
  }
  const visitor = r.service['visitor-session'];
  if (visitor) {
    const cookie = r.cookies[visitor.cookie];
    if (!cookie) ref(['service', 'visitor-session', 'cookie'], visitor.cookie, Object.keys(r.cookies), 'cookie');
    else if (cookie.purpose !== STRICTLY_NECESSARY || cookie.provider !== FIRST_PARTY) {
      error(['service', 'visitor-session', 'cookie'], `the visitor-session cookie must be a first-party, strictly necessary cookie; "${visitor.cookie}" is not`);
    }
  }

  if (!r.rights.email && !r.rights.url && !r.rights.post && !r.controller.email && !r.controller.dpo?.email) {
    error(['rights'], 'people need a way to exercise their rights: give an email, URL or postal address under "rights:"');
  }

  // Declared but unused: probably a mistake, never fatal.
  const unused = (section: string, keys: string[], usedSet: Set<string>) => {
    for (const k of keys) if (!usedSet.has(k)) warn([section, k], `"${k}" is declared but nothing uses it`, 'key');
  };
  unused('subjects', subjects, used.subjects);
  unused('data', data, used.data);
  unused('recipients', recipients, used.recipients);
  unused('sources', sources, used.sources);
  unused('events', Object.keys(r.events), used.events);
  return out;
}

function checkRetention(
  p: RegisterData['purposes'][string],
  at: readonly (string | number)[],
  events: string[],
  usedEvents: Set<string>,
  error: (path: YamlPath, message: string) => void,
): void {
  const ret = p.retention;
  const rp = [...at, 'retention'];
  const isDuration = DURATION_PATTERN.test(ret.keep);
  if (isDuration && !ret.after) {
    error([...rp, 'keep'], 'a retention period needs the event that starts the clock: add "after:" (for example service-completed or last-contact)');
  }
  if (ret.after) {
    if (events.includes(ret.after)) usedEvents.add(ret.after);
    else error([...rp, 'after'], `event "${ret.after}" is not declared under "events:" nor built in${didYouMean(ret.after, events)}`);
  }
  if (!isDuration && (OPEN_ENDED_KEEPS as readonly string[]).includes(ret.keep)) {
    if (ret.keep === 'until-withdrawn' && p.basis !== 'consent') {
      error([...rp, 'keep'], `"until-withdrawn" only fits consent; this purpose's basis is ${p.basis}`);
    }
    if (ret.keep === 'until-objection' && p.basis !== 'legitimate-interests' && p.basis !== 'public-task') {
      error([...rp, 'keep'], `"until-objection" only fits legitimate interests or public task; this purpose's basis is ${p.basis}`);
    }
    if (ret['until-age']) error([...rp, 'until-age'], '"until-age" extends a fixed period: use it with a duration such as P8Y');
  }
  if (ret.then === 'suppress' && !p.channels) {
    error([...rp, 'then'], '"suppress" keeps a do-not-contact note and only fits marketing purposes (with "channels")');
  }
  if (ret.then === 'offsite' && !ret.finally) {
    error([...rp, 'then'], 'moving records off-site is not the end of their life: add "finally: { keep: ..., then: erase }"');
  }
}
