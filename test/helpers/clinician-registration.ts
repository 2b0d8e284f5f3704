/**
 * A valid clinician registration for the IDT example register (its sale for product news); `n` makes the email and
 * phone unique; `noNews` ticks the refusal box.
 */
export function clinicianRegistration(n: number, noNews: boolean): Record<string, string | boolean> {
  return {
    name: `Dr Clinician ${n}`,
    email: `clinician${n}@practice.example`,
    address: '1 High Street, Exeter',
    postcode: 'EX1 1AA',
    phone: `+44 1392 00${String(n).padStart(4, '0')}`,
    ...(noNews ? { 'no-news': true } : {}),
  };
}
