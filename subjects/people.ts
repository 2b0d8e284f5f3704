// People as consent/ sees them (consent/people.ts): handed to it by the floors above, never imported by it.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import { chosenSubjects, getSubjectOverview, mergedFamilies } from './subjects-store.ts';

export const subjectPeople = Object.freeze({
  async holder(ex: Kysely<Tables>, id: string): Promise<string | null> {
    const found = (await chosenSubjects(ex, [id])).get(id);
    return found && !found.erased ? found.holder : null;
  },
  async family(ex: Kysely<Tables>, id: string): Promise<string[]> {
    return [...(await mergedFamilies(ex, [id])).keys()];
  },
  async identifiers(ex: Kysely<Tables>, id: string): Promise<{ kind: string; value: string }[]> {
    return ((await getSubjectOverview(ex, id))?.identifiers ?? []).map((i) => ({ kind: i.kind, value: i.value }));
  },
  async recordPurposes(ex: Kysely<Tables>, id: string): Promise<string[]> {
    return [...new Set(((await getSubjectOverview(ex, id))?.records ?? []).flatMap((r) => r.purposes))];
  },
});
