// Purposes: basis, Art. 9 condition, references, retention, marketing channels.
import { didYouMean } from '../problems.ts';
import type { YamlPath } from '../problems.ts';
import type { RegisterData } from '../schema.ts';
import { DURATION_PATTERN } from '../../core/duration.ts';
import { OPEN_ENDED_KEEPS } from '../schema.ts';
import type { RuleContext } from './context.ts';

export function checkPurposes(ctx: RuleContext): void {
  const { r, error, warn, ref, keys, used } = ctx;
  for (const [pk, p] of Object.entries(r.purposes)) {
    const at = ['purposes', pk] as const;
    p.subjects.forEach((s, i) => {
      ref([...at, 'subjects', i], s, keys.subjects, 'subject kind', used.subjects);
    });
    p.data.forEach((d, i) => {
      ref([...at, 'data', i], d, keys.data, 'data category', used.data);
    });
    p.recipients.forEach((x, i) => {
      ref([...at, 'recipients', i], x, keys.recipients, 'recipient', used.recipients);
    });
    p.sources.forEach((x, i) => {
      ref([...at, 'sources', i], x, keys.sources, 'source', used.sources);
    });

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
      error(
        [...at, 'data'],
        `uses special category data (${special.join(', ')}) so it must name an Art. 9(2) condition: add "condition:" (for example health-care or explicit-consent)`,
      );
    }
    if (special.length === 0 && p.condition) {
      warn([...at, 'condition'], 'an Art. 9 condition is only needed when the purpose uses special category data');
    }
    if (p.condition === 'explicit-consent' && p.basis !== 'consent') {
      warn([...at, 'condition'], 'explicit consent as the Art. 9 condition normally goes with consent as the basis');
    }

    checkRetention(p, at, keys.events, used.events, error);

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
          warn(
            cp,
            `opt-in ${channel} marketing relies on consent under PECR; the ICO expects consent as the lawful basis too, so consider a separate consent purpose`,
          );
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
  (ret.or ?? []).forEach((keep, i) => {
    if (keep === 'until-withdrawn' && p.basis !== 'consent') error([...rp, 'or', i], `"until-withdrawn" only fits consent; this purpose's basis is ${p.basis}`);
    if (keep === 'until-objection' && p.basis !== 'legitimate-interests' && p.basis !== 'public-task')
      error([...rp, 'or', i], `"until-objection" only fits legitimate interests or public task; this purpose's basis is ${p.basis}`);
    if (keep === ret.keep) error([...rp, 'or', i], `the period is already "${keep}"`);
  });
  if (ret.then === 'suppress' && !p.channels) {
    error([...rp, 'then'], '"suppress" keeps a do-not-contact note and only fits marketing purposes (with "channels")');
  }
  if (ret.then === 'offsite' && !ret.finally) {
    error([...rp, 'then'], 'moving records off-site is not the end of their life: add "finally: { keep: ..., then: erase }"');
  }
}
