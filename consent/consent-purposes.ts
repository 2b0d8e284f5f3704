// Which of the register's purposes a consent choice can name, and what a Global Privacy Control signal does to each.
// Computed once per register (frozen after load).
import type { Register } from '../register/load-register.ts';
import { STRICTLY_NECESSARY } from '../register/vocabulary.ts';

export interface ConsentPurposes {
  /** Purposes on consent (any channel): a choice gives or refuses them. */
  readonly consent: ReadonlySet<string>;
  /**
   * Purposes on another basis a visitor may still object to with a choice: cookies run without consent under a UK
   * DUAA exemption (statistics, appearance), and legitimate-interest marketing or profiling.
   */
  readonly objectable: ReadonlySet<string>;
  /** What `Sec-GPC: 1` objects to (Art. 21(5)): legitimate-interest marketing and profiling, exempt cookies. */
  readonly gpcObjects: readonly string[];
  /** Every purpose a choice may name. */
  readonly choosable: ReadonlySet<string>;
}

/** DPV terms (and words in a purpose's key) that mark profiling, personalisation or advertising. */
const PROFILING = /profil|personalis|personaliz|advertis|marketing|targeted|tracking/i;

const cache = new WeakMap<Register, ConsentPurposes>();

export function consentPurposes(register: Register): ConsentPurposes {
  const known = cache.get(register);
  if (known) return known;
  const consent = new Set<string>();
  const objectable = new Set<string>();
  for (const [key, p] of Object.entries(register.purposes)) {
    if (p.basis === 'consent') consent.add(key);
    else if (p.basis === 'legitimate-interests' && (p.channels !== undefined || PROFILING.test(`${key} ${p.dpv ?? ''}`))) objectable.add(key);
  }
  for (const c of Object.values(register.cookies)) {
    if (c.purpose !== STRICTLY_NECESSARY && c.exemption && !consent.has(c.purpose)) objectable.add(c.purpose);
  }
  const made: ConsentPurposes = Object.freeze({
    consent,
    objectable,
    gpcObjects: [...objectable].sort(),
    choosable: new Set([...consent, ...objectable]),
  });
  cache.set(register, made);
  return made;
}

/** `Sec-GPC: 1`, exactly: any other value (`0`, `true`, ` 1`, two headers) is no signal. */
export function gpcSignalled(header: string | string[] | undefined): boolean {
  return header === '1';
}

/**
 * What a Global Privacy Control signal sent with a form submission records for the person, beside what the form's
 * boxes record: every objectable purpose objected to (Art. 21(5)); every consent purpose the form does not tick
 * refused, per channel where the purpose's boxes are per channel. A box ticked on the form stays a consent: GPC is a
 * general signal of the browser, the tick a specific act of the person (Art. 7), and the specific act wins.
 */
export function gpcOnSubmission(
  register: Register,
  ticked: readonly { purpose: string; channel: string | null }[],
): { purpose: string; channel: string | null; state: 'objected' | 'refused' }[] {
  const { consent, gpcObjects } = consentPurposes(register);
  const out: { purpose: string; channel: string | null; state: 'objected' | 'refused' }[] = gpcObjects.map((purpose) => ({
    purpose,
    channel: null,
    state: 'objected',
  }));
  for (const purpose of [...consent].sort()) {
    const boxes = ticked.filter((t) => t.purpose === purpose);
    if (boxes.length === 0) out.push({ purpose, channel: null, state: 'refused' });
    else if (!boxes.some((t) => t.channel === null)) {
      // Ticked for some channels: the others are refused one by one, so the ticked ones stay the newest word on theirs.
      for (const channel of Object.keys(register.purposes[purpose]?.channels ?? {}).sort()) {
        if (!boxes.some((t) => t.channel === channel)) out.push({ purpose, channel, state: 'refused' });
      }
    }
  }
  return out;
}
