// Identifiers are stored normalised, so however someone typed one it compares equal (to find a person, or to see that two share it).
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { IDENTIFIER_KINDS } from '../register/schema.ts';

export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export type Normalised = { ok: true; value: string } | { ok: false; problem: string };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `region`: the country assumed for phone numbers written without a +country code. */
export function normaliseIdentifier(kind: IdentifierKind, raw: string, region?: string): Normalised {
  const value = raw.normalize('NFKC').trim();
  if (value === '') return { ok: false, problem: 'is empty' };
  switch (kind) {
    case 'email': {
      // Mailbox names are case-insensitive in practice; IDNA domains are compared lower-case.
      const lower = value.toLowerCase();
      return EMAIL.test(lower) && lower.length <= 254 ? { ok: true, value: lower } : { ok: false, problem: 'is not an email address' };
    }
    case 'phone': {
      const parsed = parsePhoneNumberFromString(value, region as CountryCode | undefined);
      if (!parsed?.isValid()) {
        return { ok: false, problem: region ? 'is not a valid phone number' : 'is not a valid phone number (write it with the country code, e.g. +44)' };
      }
      return { ok: true, value: parsed.number };
    }
    case 'gdc-number': {
      const digits = value.replace(/\s+/g, '');
      return /^\d{3,7}$/.test(digits) ? { ok: true, value: digits } : { ok: false, problem: 'is not a GDC registration number (digits only)' };
    }
    case 'visitor-id':
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? { ok: true, value } : { ok: false, problem: 'is not a visitor id' };
    default: {
      const compact = compactReference(value);
      return /^[A-Z0-9/._]{1,64}$/.test(compact) ? { ok: true, value: compact } : { ok: false, problem: `is not a valid ${kind.replace('-', ' ')}` };
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
