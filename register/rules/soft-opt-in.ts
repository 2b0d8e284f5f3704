// The soft opt-in (PECR reg. 22(3)) as declared: a soft opt-in channel names where contact details are obtained in
// the course of a sale or negotiations for one, and each such point collects the contact and offers the refusal.
import { CONTACT_OF, contactFields, refusalFields } from '../soft-opt-in.ts';
import type { RuleContext } from './context.ts';

export function checkSoftOptIn(ctx: RuleContext): void {
  const { r, error, warn, ref } = ctx;
  for (const [pk, p] of Object.entries(r.purposes)) {
    const at = ['purposes', pk];
    const channels = Object.entries(p.channels ?? {})
      .filter(([c, rule]) => rule === 'soft-opt-in' && CONTACT_OF[c])
      .map(([c]) => c);
    const sales = p['soft-opt-in'] ?? [];
    if (channels.length === 0) {
      if (sales.length > 0) warn([...at, 'soft-opt-in'], 'no channel of this purpose is soft-opt-in, so these sales are never used');
      continue;
    }
    // Per channel, whether some named point both collects the contact and offers the refusal.
    const served = new Set<string>();
    sales.forEach((sale, i) => {
      const sp = [...at, 'soft-opt-in', i, 'point'];
      if (!ref(sp, sale.point, Object.keys(r.collection), 'collection point')) return;
      const point = r.collection[sale.point]!;
      if (!point.purposes.includes(pk)) {
        error(sp, `"${sale.point}" does not collect for "${pk}" (its purposes): the soft opt-in covers only details obtained for this marketing in the sale`);
        return;
      }
      for (const c of channels) {
        if (contactFields(point, c).length === 0) continue;
        if (refusalFields(point, pk, c).length === 0) {
          error(
            sp,
            `"${sale.point}" collects the ${CONTACT_OF[c] === 'email' ? 'email address' : 'phone number'} but offers no way to refuse ${c} marketing there (PECR reg. 22(3)(c)): add a boolean field with "objects: ${pk}"${channels.length > 1 ? ` and "channel: ${c}"` : ''}`,
          );
        } else served.add(c);
      }
    });
    for (const c of channels) {
      if (served.has(c)) continue;
      error(
        [...at, 'channels', c],
        sales.length === 0
          ? `the soft opt-in covers only contact details obtained in the course of a sale or negotiations for one (PECR reg. 22(3)(a)): name the collection points where that happens, with "soft-opt-in: [{ point: <a collection point>, sale: <what is sold> }]"`
          : `no point under "soft-opt-in" collects the person's ${CONTACT_OF[c] === 'email' ? 'email address' : 'phone number'} and offers the refusal, so nobody can be sent ${c} marketing`,
      );
    }
  }
}
