// Cookies: anything not strictly necessary maps to a consent purpose (or a declared UK exemption).
import { FIRST_PARTY, STRICTLY_NECESSARY, UK_COOKIE_EXEMPTIONS_FROM } from '../vocabulary.ts';
import type { RuleContext } from './context.ts';

export function checkCookies(ctx: RuleContext): void {
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
}
