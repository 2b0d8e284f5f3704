// What this installation of Custodian can do for the people a notice addresses. A notice sentence that promises
// one of these appears only when the register declares the promise (`notice.promises`) and the capability is
// here; `custodian check` warns about a declared promise this installation cannot keep yet.
//
// When a feature lands, flip its entry to true in the same change that brings its tests.

export const CAPABILITY_KEYS = ['cookie-settings', 'global-privacy-control', 'change-notices', 'privacy-centre', 'complaint-handling'] as const;
export type Capability = (typeof CAPABILITY_KEYS)[number];
export type Capabilities = Readonly<Record<Capability, boolean>>;

export const INSTALLED: Capabilities = Object.freeze({
  /** A "Cookie settings" link at the foot of every page reopens the cookie banner (GET /consent.js, web/consent-client/). */
  'cookie-settings': true,
  /**
   * A `Sec-GPC: 1` signal is recorded as a refusal of every consent purpose and an objection to legitimate-interest
   * marketing and profiling (consent/consent-routes.ts, /.well-known/gpc.json); the banner sends
   * navigator.globalPrivacyControl the same way (web/consent-client/).
   */
  'global-privacy-control': true,
  /** People a material change concerns are told before it takes effect (mail from the notice versions, not built yet). */
  'change-notices': false,
  /** A privacy centre where people make rights requests and withdraw consent themselves (web/privacy-center-routes.ts). */
  'privacy-centre': true,
  /**
   * Complaints recorded (the privacy centre, staff), due for acknowledgement 30 days from receipt with reminders, the
   * acknowledgement and the outcome emailed with the route to the regulator (requests/fulfil-rights.ts, UK DPA 2018 s.164A).
   */
  'complaint-handling': true,
});

/** What each capability lets a notice say, for `check` messages. */
export const CAPABILITY_PROMISE: Readonly<Record<Capability, string>> = Object.freeze({
  'cookie-settings': 'a "Cookie settings" link on every page',
  'global-privacy-control': 'that a Global Privacy Control signal refuses consent',
  'change-notices': 'that people are told of a change before it takes effect',
  'privacy-centre': 'a privacy centre for rights requests and consent',
  'complaint-handling': 'that complaints are acknowledged within 30 days',
});

export const ALL_CAPABILITIES: Capabilities = Object.freeze(Object.fromEntries(CAPABILITY_KEYS.map((k) => [k, true])) as Record<Capability, boolean>);
export const NO_CAPABILITIES: Capabilities = Object.freeze(Object.fromEntries(CAPABILITY_KEYS.map((k) => [k, false])) as Record<Capability, boolean>);
