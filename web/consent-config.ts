// What the cookie banner (web/consent-client/) is told about the register: the consent purposes of its cookie table
// with their cookies, the UK DUAA exemptions, the cookie the register declares keeps the choice (`keeps-consent-choice`)
// with its declared lifetime, how long a choice counts, whether Google Analytics is declared, and a fingerprint of all
// that (a change re-asks everyone). Both languages' texts go in; the banner picks the page's.
import { createHash } from 'node:crypto';
import { approximateSeconds, compareDurations } from '../core/duration.ts';
import { describeDuration } from '../documents/describe-duration.ts';
import type { Register } from '../register/load-register.ts';
import type { Language, Text } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import { FIRST_PARTY, STRICTLY_NECESSARY } from '../register/vocabulary.ts';

/** A text in both languages, or one string when they read the same. */
type BannerText = string | { en: string; de: string };

interface BannerCookie {
  /** The cookie names, comma-separated. */
  readonly n: string;
  /** Who sets or reads it. */
  readonly p: BannerText;
  /** How long it lasts, in words. */
  readonly l: BannerText;
}

interface BannerPurpose {
  readonly id: string;
  readonly title: BannerText;
  /** UK DUAA: runs without consent, the visitor may object (statistics or appearance). */
  readonly exempt?: 'statistics' | 'appearance';
  /** Google Consent Mode: which signal this purpose drives (analytics_storage, or the three ad_ signals). */
  readonly gcm?: 'a' | 'ad';
  readonly cookies: readonly BannerCookie[];
}

export interface BannerConfig {
  /** Fingerprint of the purposes and their cookies: a stored choice for another fingerprint is asked again. */
  readonly v: string;
  /** The cookie that keeps the choice: the register's `keeps-consent-choice` one ('' when nothing is asked). */
  readonly cookie: string;
  /** Its Max-Age in seconds, as the register declares it (`lasts`); 0 for a session cookie. */
  readonly life: number;
  /** How long a choice counts, in seconds: the shortest `consent-lasts`, else the cookie's lifetime, else six months. */
  readonly valid: number;
  /** The register's own language, when the page says none the banner speaks. */
  readonly lang: Language;
  readonly ga: boolean;
  readonly purposes: readonly BannerPurpose[];
}

/** How long a choice counts when neither the purposes nor the choice cookie say (a session cookie): six months. */
const DEFAULT_LIFE = 'P6M';

const both = (text: Text | undefined, fallback: string): BannerText => {
  const en = pickText(text, 'en') ?? fallback;
  const de = pickText(text, 'de') ?? fallback;
  return en === de ? en : { en, de };
};

const GA_NAME = /^_(ga|gid|gat)/;
const ADS_DPV = /advertis|marketing/i;

/**
 * The cookie the register marks `keeps-consent-choice` (`custodian check` holds it to one, first-party, strictly
 * necessary, one settable name, whenever a cookie needs asking about): the banner sets exactly that one.
 */
function choiceCookieOf(register: Register): { name: string; lasts: string } | undefined {
  const c = Object.values(register.cookies).find((x) => x['keeps-consent-choice']);
  return c ? { name: c.names[0]!, lasts: c.lasts } : undefined;
}

export function bannerConfig(register: Register): BannerConfig {
  const purposes: BannerPurpose[] = [];
  const byPurpose = new Map<string, BannerCookie[]>();
  let ga = false;
  const exempt = new Map<string, 'statistics' | 'appearance'>();
  for (const c of Object.values(register.cookies)) {
    if (c.purpose === STRICTLY_NECESSARY) continue;
    if (c.names.some((n) => GA_NAME.test(n))) ga = true;
    if (c.exemption) exempt.set(c.purpose, c.exemption);
    const provider = c.provider === FIRST_PARTY ? { en: 'Us', de: 'Wir' } : both(register.recipients[c.provider]?.title, c.provider);
    const lasts = (lang: Language) => (c.lasts === 'session' ? (lang === 'de' ? 'Sitzung' : 'Session') : describeDuration(c.lasts, lang));
    let list = byPurpose.get(c.purpose);
    if (!list) byPurpose.set(c.purpose, (list = []));
    list.push({ n: c.names.join(', '), p: provider, l: { en: lasts('en'), de: lasts('de') } });
  }
  let shortest: string | undefined;
  for (const [id, cookies] of byPurpose) {
    const p = register.purposes[id];
    const gaCookies = Object.values(register.cookies).some((c) => c.purpose === id && c.names.some((n) => GA_NAME.test(n)));
    const dpv = JSON.stringify(p?.dpv ?? '');
    const gcm = ADS_DPV.test(dpv) || ADS_DPV.test(id) ? 'ad' : gaCookies ? 'a' : undefined;
    const lasts = p?.['consent-lasts'];
    if (lasts && (!shortest || compareDurations(lasts, shortest) < 0)) shortest = lasts;
    const e = exempt.get(id);
    purposes.push({ id, title: both(p?.title, id), ...(e ? { exempt: e } : {}), ...(gcm ? { gcm } : {}), cookies });
  }
  const choice = choiceCookieOf(register);
  // Nothing to ask about: the banner only says so and keeps no choice. Otherwise `check` has made sure of the cookie.
  if (purposes.length > 0 && !choice) throw new Error('the register declares no cookie that keeps the consent choice (custodian check refuses it)');
  const lasts = choice && choice.lasts !== 'session' ? choice.lasts : undefined;
  const valid = shortest && (!lasts || compareDurations(shortest, lasts) < 0) ? shortest : (lasts ?? DEFAULT_LIFE);
  const v = createHash('sha256').update(JSON.stringify(purposes)).digest('base64url').slice(0, 10);
  return {
    v,
    cookie: purposes.length > 0 ? choice!.name : '',
    life: lasts ? approximateSeconds(lasts) : 0,
    valid: approximateSeconds(valid),
    lang: register.notice.language,
    ga,
    purposes,
  };
}
