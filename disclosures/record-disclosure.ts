// Recording that a person's records went to a recipient. The register decides what may go where: the recipient
// must be one the purpose names, the categories ones the purpose uses (and, where the register lists what this
// recipient receives, among those), and every record must be the person's, still live, not restricted, and
// collected for that purpose. Anything else is refused with a coded error and nothing is recorded. The ledger feeds
// access answers (recipients actually disclosed to) and the notices Art. 19 asks for after a rectification,
// erasure or restriction.
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { Register } from '../register/load-register.ts';
import { chosenSubjects } from '../subjects/subjects-store.ts';
import { disclosableRecords, insertDisclosure, type DisclosureRow } from './disclosures-store.ts';

export type DisclosureDeps = Pick<AppContext, 'db' | 'clock' | 'auditor' | 'register'>;

export interface DisclosureInput {
  readonly subjectId: string;
  readonly recipient: string;
  readonly purpose: string;
  /** The categories sent; all the purpose's categories the recipient may receive when left out. */
  readonly categories?: readonly string[];
  /** The records sent; every live record of those categories collected for the purpose when left out. */
  readonly recordIds?: readonly string[];
  /** When it was sent (default now); never in the future. */
  readonly disclosedAt?: Date;
  /** A reference of the caller's (an order number, a letter's date): a short code, not prose. */
  readonly reference?: string | null;
  readonly actor: string;
}

function refuse(message: string, details?: Record<string, unknown>): never {
  throw new CustodianError('disclosure_refused', message, details);
}

/** The categories the register lets this recipient receive for this purpose. */
function allowedCategories(register: Register, purposeKey: string, recipientKey: string): readonly string[] {
  const purpose = register.purposes[purposeKey];
  if (!purpose) refuse(`the register has no purpose "${purposeKey.slice(0, 64)}"`);
  if (!register.recipients[recipientKey]) refuse(`the register has no recipient "${recipientKey.slice(0, 64)}"`);
  if (!purpose.recipients.includes(recipientKey))
    refuse(`the register does not name "${recipientKey}" as a recipient for "${purposeKey}"`, { allowed: purpose.recipients });
  const receives = (register.recipients[recipientKey] as { receives?: readonly string[] }).receives;
  return receives ? purpose.data.filter((c) => receives.includes(c)) : purpose.data;
}

export async function recordDisclosure(deps: DisclosureDeps, input: DisclosureInput): Promise<DisclosureRow> {
  if (!isUuid(input.subjectId)) throw new CustodianError('invalid_body', 'subject must be a Custodian person id');
  const allowed = allowedCategories(deps.register, input.purpose, input.recipient);
  const categories = input.categories ? [...new Set(input.categories)] : [...allowed];
  const outside = categories.filter((c) => !allowed.includes(c));
  if (outside.length > 0)
    refuse(`the register does not let "${input.recipient}" receive ${outside.join(', ')} for "${input.purpose}"`, { refused: outside, allowed });
  if (categories.length === 0) refuse('no category is left to disclose');
  const now = deps.clock.now();
  const disclosedAt = input.disclosedAt ?? now;
  if (disclosedAt.getTime() > now.getTime() + 60_000) throw new CustodianError('invalid_body', 'disclosedAt is in the future');
  const reference = input.reference?.trim() || null;
  if (reference && !/^[\w./:#-]{1,80}$/.test(reference))
    throw new CustodianError('invalid_body', 'a reference is a short code (letters, digits and ./:#-_, up to 80)');
  const subjectId = input.subjectId.toLowerCase();

  return deps.db.kysely.transaction().execute(async (trx) => {
    const subject = (await chosenSubjects(trx, [subjectId])).get(subjectId);
    if (!subject) throw new CustodianError('not_found', 'no such person');
    if (subject.holder !== subjectId) throw new CustodianError('conflict', `this person was merged into ${subject.holder}: record it there`);
    if (subject.erased) refuse('this person was erased: nothing of theirs can be disclosed');
    const records = await disclosableRecords(trx, subjectId);
    const wanted = input.recordIds ? new Set(input.recordIds.map((r) => r.toLowerCase())) : null;
    const chosen = records.filter((r) =>
      wanted ? wanted.has(r.id) : r.state !== 'erased' && categories.includes(r.category) && r.purposes.includes(input.purpose),
    );
    if (wanted) {
      const found = new Set(chosen.map((r) => r.id));
      const missing = [...wanted].filter((id) => !found.has(id));
      if (missing.length > 0)
        throw new CustodianError('not_found', `${missing.length} of the records are not this person's`, { records: missing.slice(0, 20) });
    }
    if (chosen.length === 0) refuse(`this person has no live ${categories.join(', ')} records collected for "${input.purpose}"`);
    for (const r of chosen) {
      if (r.state === 'erased') refuse('an erased record cannot be disclosed', { record: r.id });
      if (r.state === 'restricted')
        throw new CustodianError('record_restricted', 'a restricted record is only stored: it cannot be disclosed', { record: r.id });
      if (!categories.includes(r.category)) refuse(`record ${r.id} is ${r.category}, not one of the categories disclosed`, { record: r.id });
      if (!r.purposes.includes(input.purpose)) refuse(`record ${r.id} was not collected for "${input.purpose}"`, { record: r.id });
    }
    const row: DisclosureRow = {
      id: crypto.randomUUID(),
      subject_id: subjectId,
      recipient: input.recipient,
      purpose: input.purpose,
      categories: [...new Set(chosen.map((r) => r.category))].sort(),
      record_ids: chosen.map((r) => r.id).sort(),
      disclosed_at: disclosedAt,
      recorded_at: now,
      recorded_by: input.actor,
      reference,
    };
    await insertDisclosure(trx, deps.auditor, row);
    return row;
  });
}
