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
    if (rec.transfer?.safeguard === 'derogation' && !rec.transfer.occasional) {
      // EDPB Guidelines 2/2018: Art. 49 covers occasional, non-repetitive transfers, never routine ones.
      const purposes = Object.entries(r.purposes).filter(([, p]) => p.recipients.includes(rk));
      warn(
        [...at, 'transfer', 'safeguard'],
        `an Art. 49 derogation covers only occasional transfers, but ${purposes.length ? `${purposes.map(([k]) => k).join(', ')} send${purposes.length === 1 ? 's' : ''} data here routinely` : 'this recipient receives data routinely'}: use ${r.controller.jurisdiction === 'uk' ? 'idta or uk-addendum' : 'scc'} (or bcr, dpf), or mark the transfer "occasional: true" if it truly is`,
      );
    }
    if (rec.receives) {
      const given = new Set(Object.values(r.purposes).flatMap((p) => (p.recipients.includes(rk) ? p.data : [])));
      rec.receives.forEach((d, i) => {
        if (!ctx.ref([...at, 'receives', i], d, ctx.keys.data, 'data category', ctx.used.data)) return;
        if (!given.has(d)) error([...at, 'receives', i], `"${d}" is not among the data of any purpose that shares with this recipient`);
      });
    }
    if ((rec.role === 'processor' || rec.role === 'sub-processor') && rec.agreement === false) {
      error([...at, 'agreement'], 'a processor must be bound by a contract under Art. 28(3)');
    }
  }
}
