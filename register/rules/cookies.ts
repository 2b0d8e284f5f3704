// Cookies: anything not strictly necessary maps to a consent purpose (or a declared UK exemption), and the cookie the
// banner keeps each visitor's choice in is declared, so the cookie table lists every cookie the banner sets.
import type { Capabilities } from '../capabilities.ts';
import { FIRST_PARTY, STRICTLY_NECESSARY, UK_COOKIE_EXEMPTIONS_FROM } from '../vocabulary.ts';
import type { RuleContext } from './context.ts';

/** A name the banner can set as it is: a cookie token (RFC 6265) without the `*` wildcard the register allows elsewhere. */
const SETTABLE_NAME = /^[A-Za-z0-9!#$%&'+\-.^_`|~]+$/;

export function checkCookies(ctx: RuleContext, capabilities: Capabilities): void {
  const { r, error, warn, ref, keys, used } = ctx;
  for (const [ck, c] of Object.entries(r.cookies)) {
    const at = ['cookies', ck];
    if (c.provider !== FIRST_PARTY) ref([...at, 'provider'], c.provider, [FIRST_PARTY, ...keys.recipients], 'cookie provider', used.recipients);
    if (c.purpose === STRICTLY_NECESSARY) {
      if (c.exemption) warn([...at, 'exemption'], 'strictly necessary cookies need no exemption');
      continue;
    }
    if (!ref([...at, 'purpose'], c.purpose, [STRICTLY_NECESSARY, ...keys.purposes], 'cookie purpose')) continue;
    const purpose = r.purposes[c.purpose];
    if (!purpose || purpose.basis === 'consent') continue;
    if (!c.exemption) {
      error(
        [...at, 'purpose'],
        `a cookie that is not strictly necessary needs consent, but purpose "${c.purpose}" is based on ${purpose.basis}: map it to a consent purpose${r.controller.jurisdiction === 'uk' ? ', or declare a UK exemption (statistics, appearance)' : ''}`,
      );
    } else if (r.controller.jurisdiction !== 'uk') {
      error([...at, 'exemption'], 'the statistics and appearance exemptions exist only under UK PECR (DUAA 2025); in the EU these cookies need consent');
    } else if (c.exemption === 'statistics' && c.provider !== FIRST_PARTY) {
      error([...at, 'exemption'], 'the statistics exemption covers first-party aggregate statistics only; a third-party analytics cookie needs consent');
    } else if (r.notice.effective < UK_COOKIE_EXEMPTIONS_FROM) {
      error(
        [...at, 'exemption'],
        `the ${c.exemption} exemption applies from ${UK_COOKIE_EXEMPTIONS_FROM}; a notice effective ${r.notice.effective} cannot rely on it (date the notice from then, or ask for consent)`,
      );
    }
  }
  checkChoiceCookie(ctx, capabilities);
}

/**
 * The banner (capability `cookie-settings`) asks about every cookie that is not strictly necessary and keeps the answer
 * in the one cookie marked `keeps-consent-choice`: first-party, strictly necessary (it also remembers a refusal), one
 * settable name. Without cookies to ask about, the banner keeps no choice, so a marked cookie would never be set.
 */
function checkChoiceCookie(ctx: RuleContext, capabilities: Capabilities): void {
  const { r, error, warn } = ctx;
  const keepers = Object.entries(r.cookies).filter(([, c]) => c['keeps-consent-choice']);
  for (const [ck, c] of keepers) {
    const at = ['cookies', ck];
    if (c.provider !== FIRST_PARTY)
      error([...at, 'provider'], 'the banner keeps the consent choice on the website itself: the cookie that keeps it must be first-party');
    if (c.purpose !== STRICTLY_NECESSARY)
      error(
        [...at, 'purpose'],
        'the cookie that keeps the consent choice is strictly necessary (it must remember a refusal too, without asking): use strictly-necessary',
      );
    if (c.names.length !== 1 || !SETTABLE_NAME.test(c.names[0]!))
      error([...at, 'names'], 'the banner sets the cookie that keeps the consent choice by its name: give exactly one name, without wildcards');
  }
  const [first, ...more] = keepers;
  for (const [ck] of more)
    error(['cookies', ck, 'keeps-consent-choice'], `only one cookie keeps the consent choice, and "${first![0]}" already does: remove one of the marks`);
  const asked = Object.values(r.cookies).some((c) => c.purpose !== STRICTLY_NECESSARY);
  if (asked && capabilities['cookie-settings'] && !first)
    error(
      ['cookies'],
      'the cookie banner keeps each visitor\'s choice in a cookie the notice must list: declare it (first-party, strictly necessary, how long it lasts) with "keeps-consent-choice: true"',
    );
  if (!asked)
    for (const [ck] of keepers)
      warn(
        ['cookies', ck, 'keeps-consent-choice'],
        'no cookie here needs consent or an objection, so the banner asks nothing and never sets a cookie to keep a choice: remove this mark (and the cookie, if nothing else sets it)',
      );
}
