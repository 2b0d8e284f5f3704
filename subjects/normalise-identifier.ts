// Identifiers are stored normalised, so however someone typed one it compares equal (to find a person, or to see that two share it).
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { IDENTIFIER_KINDS } from '../register/schema.ts';

export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

/** `code` names the problem for pages that word it in the person's language (web/form-strings.ts). */
export type Normalised = { ok: true; value: string } | { ok: false; problem: string; code: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `region`: the country assumed for phone numbers written without a +country code. */
export function normaliseIdentifier(kind: IdentifierKind, raw: string, region?: string): Normalised {
  const value = raw.normalize('NFKC').trim();
  if (value === '') return { ok: false, problem: 'is empty', code: 'blank' };
  switch (kind) {
    case 'email': {
      // Mailbox names are case-insensitive in practice; IDNA domains are compared lower-case.
      const lower = value.toLowerCase();
      return EMAIL.test(lower) && lower.length <= 254 ? { ok: true, value: lower } : { ok: false, problem: 'is not an email address', code: 'email' };
    }
    case 'phone': {
      // Possible, not valid: a number of the right length for its country is accepted even where the metadata
      // does not list its range yet (new mobile ranges; Ofcom's drama numbers such as 07700 900123).
      const parsed = parsePhoneNumberFromString(value, region as CountryCode | undefined);
      if (!parsed?.isPossible() || !/^[\d\s()+./-]+$/.test(value.replace(/^tel:/i, ''))) {
        return region
          ? { ok: false, problem: 'is not a phone number', code: 'phone' }
          : { ok: false, problem: 'is not a phone number (write it with the country code, e.g. +44)', code: 'phone-country' };
      }
      return { ok: true, value: parsed.number };
    }
    case 'gdc-number': {
      const digits = value.replace(/\s+/g, '');
      return /^\d{3,7}$/.test(digits)
        ? { ok: true, value: digits }
        : { ok: false, problem: 'is not a GDC registration number (digits only)', code: 'gdc-number' };
    }
    case 'visitor-id':
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? { ok: true, value } : { ok: false, problem: 'is not a visitor id', code: 'reference' };
    default: {
      const compact = compactReference(value);
      return /^[A-Z0-9/._]{1,64}$/.test(compact)
        ? { ok: true, value: compact }
        : { ok: false, problem: `is not a valid ${kind.replace('-', ' ')}`, code: 'reference' };
    }
  }
}

/** Patient, practice and customer numbers, and who issued them: case, spaces and hyphens carry no meaning. */
export function compactReference(value: string): string {
  return value.toUpperCase().replace(/[\s-]+/g, '');
}

/**
 * A name as compared when telling people apart: accents, case, punctuation and word order carry no meaning
 * ("José  de la Cruz" and "DE LA CRUZ, Jose" are one name). Never used to find anyone, only to compare.
 */
export function normaliseName(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .sort()
    .join(' ');
}

export function defaultPhoneRegion(controller: { jurisdiction: 'uk' | 'eu'; country?: string | undefined }): string | undefined {
  return controller.country ?? (controller.jurisdiction === 'uk' ? 'GB' : undefined);
}
