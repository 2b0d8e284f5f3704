// Fixed vocabulary the register refers to: built-in events, countries with free data flow, and the DPV terms
// each concept maps to. Dated facts (adequacy lists) carry the date they were last checked.
import type { Language } from './schema.ts';

/** Events every register may use as a retention trigger without declaring them. */
export const BUILT_IN_EVENTS: Readonly<Record<string, Readonly<Record<Language, string>>>> = Object.freeze({
  collected: { en: 'we collect it', de: 'der Erhebung' },
  'last-contact': { en: 'your last contact with us', de: 'Ihrem letzten Kontakt mit uns' },
  'relationship-ended': { en: 'our business relationship ends', de: 'dem Ende unserer Geschäftsbeziehung' },
  'service-completed': { en: 'the service is completed', de: 'Abschluss der Leistung' },
  'treatment-ended': { en: 'your treatment ends', de: 'dem Ende Ihrer Behandlung' },
  'order-completed': { en: 'your order is completed', de: 'Abschluss Ihrer Bestellung' },
  'account-closed': { en: 'you close your account', de: 'der Schließung Ihres Kontos' },
  'application-decided': { en: 'we decide on your application', de: 'der Entscheidung über Ihre Bewerbung' },
  'session-ended': { en: 'your visit ends', de: 'dem Ende Ihres Besuchs' },
  'consent-given': { en: 'you give your consent', de: 'Ihrer Einwilligung' },
});

/** UK and EEA: personal data flows freely between them (UK adequacy regulations and the EU decision for the UK). */
export const UK_EEA = new Set([
  'GB',
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
  'IS',
  'LI',
  'NO',
]);

/**
 * Countries with an adequacy decision recognised in both the UK and the EU, as of 2026-11-01. The United States
 * is absent on purpose: its adequacy (DPF / UK extension) covers certified organisations only, so a US recipient
 * must name its safeguard (dpf for a certified one).
 */
export const ADEQUACY_CHECKED = '2026-11-01';
const ADEQUATE_COUNTRIES = new Set(['AD', 'AR', 'CA', 'FO', 'GG', 'IL', 'IM', 'JP', 'JE', 'NZ', 'KR', 'CH', 'UY']);

export function transferNeedsSafeguard(country: string): boolean {
  return !UK_EEA.has(country) && !ADEQUATE_COUNTRIES.has(country);
}

/** W3C Data Privacy Vocabulary terms for the register's fixed values. */
export const DPV = Object.freeze({
  basis: {
    consent: 'dpv:Consent',
    contract: 'dpv:Contract',
    'legal-obligation': 'dpv:LegalObligation',
    'vital-interests': 'dpv:VitalInterest',
    'public-task': 'dpv:PublicInterest',
    'legitimate-interests': 'dpv:LegitimateInterest',
  },
  condition: {
    'explicit-consent': 'dpv:ExplicitlyExpressedConsent',
    employment: 'legal:A9-2-b',
    'vital-interests': 'legal:A9-2-c',
    'not-for-profit': 'legal:A9-2-d',
    'made-public': 'legal:A9-2-e',
    'legal-claims': 'legal:A9-2-f',
    'substantial-public-interest': 'legal:A9-2-g',
    'health-care': 'legal:A9-2-h',
    'public-health': 'legal:A9-2-i',
    'archiving-research': 'legal:A9-2-j',
  },
  special: {
    health: 'pd:Health',
    genetic: 'pd:Genetic',
    biometric: 'pd:Biometric',
    'racial-ethnic': 'pd:Racial',
    political: 'pd:PoliticalAffiliation',
    religious: 'pd:Religion',
    'trade-union': 'pd:TradeUnionMembership',
    'sex-life': 'pd:SexualOrientation',
    criminal: 'pd:CriminalOffense',
  },
  recipientRole: {
    controller: 'dpv:DataController',
    'joint-controller': 'dpv:JointDataControllers',
    processor: 'dpv:DataProcessor',
    'sub-processor': 'dpv:DataSubProcessor',
    authority: 'dpv:Authority',
  },
  action: {
    erase: 'dpv:Erase',
    anonymise: 'dpv:Anonymise',
    restrict: 'dpv:Restrict',
    offsite: 'dpv:Move',
    suppress: 'dpv:Restrict',
    review: 'dpv:Assess',
  },
  safeguard: {
    adequacy: 'dpv:DataTransferLegalBasis',
    scc: 'dpv:StandardContractualClauses',
    idta: 'dpv:DataTransferLegalBasis',
    'uk-addendum': 'dpv:StandardContractualClauses',
    bcr: 'dpv:BindingCorporateRules',
    dpf: 'dpv:DataTransferLegalBasis',
    derogation: 'dpv:DataTransferLegalBasis',
  },
  cookieStrictlyNecessary: 'dpv:ServiceProvision',
} as const);

/** PECR as amended by the Data (Use and Access) Act 2025: the statistics and appearance exemptions apply from this day. */
export const UK_COOKIE_EXEMPTIONS_FROM = '2026-02-05';

/** The purpose key cookies use when they need no consent. */
export const STRICTLY_NECESSARY = 'strictly-necessary';
/** The provider key for cookies the business sets itself. */
export const FIRST_PARTY = 'first-party';
/** The collection source that means "the person the data is about". */
export const SOURCE_SUBJECT = 'subject';
