// Finding a person from whatever staff typed: an email, a phone number, a patient or practice number, or a
// Custodian id. What was typed is read as every identifier kind it could be, normalised as at collection.
import type { AppContext } from '../app/app-context.ts';
import { isUuid } from '../core/ids.ts';
import type { Register } from '../register/load-register.ts';
import { IDENTIFIER_KINDS } from '../register/schema.ts';
import { defaultPhoneRegion, normaliseIdentifier } from './normalise-identifier.ts';
import { searchPeople, type PersonMatch } from './subjects-store.ts';

export function findPeople(deps: Pick<AppContext, 'db' | 'register' | 'auditor'>, query: string, actor: string): Promise<PersonMatch[]> {
  return searchPeople(
    deps.db.kysely,
    deps.auditor,
    { identifiers: identifiersIn(deps.register, query), subjectId: isUuid(query) ? query.toLowerCase() : null },
    actor,
  );
}

function identifiersIn(register: Register, query: string): { kind: string; value: string }[] {
  const region = defaultPhoneRegion(register.controller);
  return IDENTIFIER_KINDS.flatMap((kind) => {
    const n = normaliseIdentifier(kind, query, region);
    return n.ok ? [{ kind, value: n.value }] : [];
  });
}
