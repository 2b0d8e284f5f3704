// How far each identifier kind names one person: the register's `identifiers:` section over these defaults. A
// contact point (email, phone) is shared by families, colleagues and a practice's patients, so it never says who
// someone is; a patient number names one person only within the practice that issued it.
import type { IDENTIFIER_KINDS, RegisterData } from './schema.ts';

export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export interface IdentifierRule {
  readonly strength: 'contact' | 'strong';
  readonly scope: 'register' | 'issuer';
}

/** What a kind is when the register does not say. */
const DEFAULT_IDENTIFIER_RULES: Readonly<Record<IdentifierKind, IdentifierRule>> = {
  email: { strength: 'contact', scope: 'register' },
  phone: { strength: 'contact', scope: 'register' },
  'patient-number': { strength: 'strong', scope: 'issuer' },
  'practice-number': { strength: 'strong', scope: 'register' },
  'gdc-number': { strength: 'strong', scope: 'register' },
  'customer-number': { strength: 'strong', scope: 'register' },
  'visitor-id': { strength: 'strong', scope: 'register' },
};

/** Kinds that are contact points by nature: the register may not call them identities. */
export const CONTACT_KINDS: ReadonlySet<string> = new Set(['email', 'phone']);

export function identifierRule(register: Pick<RegisterData, 'identifiers'>, kind: IdentifierKind): IdentifierRule {
  const declared = register.identifiers[kind];
  return declared ? { strength: declared.strength, scope: declared.scope } : DEFAULT_IDENTIFIER_RULES[kind];
}
