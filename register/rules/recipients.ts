// Recipients: transfers abroad need a safeguard; processors need an Art. 28 contract.
import { ADEQUACY_CHECKED, transferNeedsSafeguard, UK_EEA } from '../vocabulary.ts';
import type { RuleContext } from './context.ts';

export function checkRecipients(ctx: RuleContext): void {
  const { r, error, warn } = ctx;
  for (const [rk, rec] of Object.entries(r.recipients)) {
    const at = ['recipients', rk];
    const needs = transferNeedsSafeguard(rec.country);
    if (needs && !rec.transfer) {
      error(
        [...at, 'country'],
        `${rec.country} is outside the UK/EEA and has no adequacy decision (list checked ${ADEQUACY_CHECKED}): add "transfer: { safeguard: ... }" (scc, idta, uk-addendum, bcr, dpf or derogation)`,
      );
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
}
