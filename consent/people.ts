// What consent needs to know about people. consent/ sits between subjects/ and subjects/collect/ (which records the
// consents ticked on forms), so it may not import subjects/ itself without a folder cycle: the floors above hand it
// subjects/people.ts, which fits this shape.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';

export interface People {
  /** The live person with this id (or the one they were merged into); null when nobody has it or they were erased. */
  holder(ex: Kysely<Tables>, id: string): Promise<string | null>;
  /** The person and everyone merged into them. */
  family(ex: Kysely<Tables>, id: string): Promise<string[]>;
  /** Their identifiers (kind, normalised value), those of people merged into them included. */
  identifiers(ex: Kysely<Tables>, id: string): Promise<{ kind: string; value: string }[]>;
  /** The purposes their records serve. */
  recordPurposes(ex: Kysely<Tables>, id: string): Promise<string[]>;
}
