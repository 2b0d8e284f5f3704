// Data portability (Art. 20): from the answer to a portability request, only the records the person provided
// themselves (the collection point's source is the person), that are processed on their consent or under a contract
// with them (the record's basis for at least one of its purposes), and that came in by automated means (a web form,
// an app, the API: not paper, a call or an email typed in by staff). As JSON, as CSV (one row per record), and the
// health records among them also as an HL7 FHIR R4 Bundle (fhir-bundle.ts). What is left out is counted, with why,
// so the person knows (a patient's scan requested by their dentist was not provided by them).
import type { Register } from '../register/load-register.ts';
import type { Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';
import { getSubjectOverview, type RecordRow } from '../subjects/subjects-store.ts';
import type { AccessAnswer, AnswerDeps, AnswerRecord } from './access-answer.ts';
import { buildFhirBundle, type FhirBundle, isHealthCategory } from './fhir-bundle.ts';

/** Channels through which data is processed by automated means. */
const AUTOMATED_CHANNELS: ReadonlySet<string> = new Set(['web', 'app', 'api']);
const PORTABLE_BASES: ReadonlySet<string> = new Set(['consent', 'contract']);

type LeftOutReason = 'not-provided-by-you' | 'not-consent-or-contract' | 'not-automated' | 'withheld';

interface PortableRecord {
  readonly id: string;
  readonly subjectId: string;
  readonly field: string;
  /** The form's label for the field, where the register gives one. */
  readonly label: string;
  readonly category: string;
  readonly categoryTitle: string;
  readonly health: boolean;
  readonly value: string;
  readonly collectedAt: string;
  /** The purposes it is processed for on consent or contract: why it is portable. */
  readonly purposes: readonly string[];
  readonly collectionPoint: string | null;
}

export interface PortabilityExport {
  readonly format: 'custodian-portability/1';
  readonly controller: AccessAnswer['controller'];
  readonly request: { id: string; receivedOn: string; exportedAt: string };
  readonly records: readonly PortableRecord[];
  /** Records held but not portable, counted by why, with their kinds of data. */
  readonly leftOut: readonly { reason: LeftOutReason; records: number; categories: readonly string[] }[];
  /** Health records: how many are in this export (and in its FHIR bundle), and in words why or why not. */
  readonly clinical: { readonly included: number; readonly leftOut: number; readonly note: string };
}

/** What the store says about a record beyond the answer: its bases, channel and collection point. */
type RecordFacts = Pick<RecordRow, 'bases' | 'purposes' | 'channel' | 'collection_point'>;

function leftOutReason(record: AnswerRecord, facts: RecordFacts | undefined): LeftOutReason | null {
  if (record.source !== 'subject') return 'not-provided-by-you';
  if (record.withheld || record.value === null || !facts) return 'withheld';
  if (!facts.bases.some((b) => PORTABLE_BASES.has(b))) return 'not-consent-or-contract';
  if (!AUTOMATED_CHANNELS.has(facts.channel)) return 'not-automated';
  return null;
}

const CLINICAL_NOTE = {
  en: {
    included: (n: number) => `${n} health record${n === 1 ? ' is' : 's are'} included, also as an HL7 FHIR R4 Bundle.`,
    leftOut:
      'No health records are in this export: portability covers only what you gave us yourself, on your consent or under a contract with you, by electronic means. Health records a clinician sent us about you are in your copy of your data (your access answer) instead.',
  },
  de: {
    included: (n: number) => `${n} Gesundheitsdatensatz${n === 1 ? ' ist' : 'sätze sind'} enthalten, auch als HL7-FHIR-R4-Bundle.`,
    leftOut:
      'Dieser Export enthält keine Gesundheitsdaten: Das Recht auf Datenübertragbarkeit umfasst nur, was Sie uns selbst mit Ihrer Einwilligung oder für einen Vertrag mit Ihnen elektronisch bereitgestellt haben. Gesundheitsdaten, die uns eine Behandlerin oder ein Behandler übermittelt hat, finden Sie in Ihrer Auskunft.',
  },
};

/** The portable part of an answer, decided per record from the register and the records' own bases and channels. */
function portableFrom(register: Register, answer: AccessAnswer, facts: ReadonlyMap<string, RecordFacts>, lang: Language): PortabilityExport {
  const records: PortableRecord[] = [];
  const leftOut = new Map<LeftOutReason, { records: number; categories: Set<string> }>();
  let clinicalLeftOut = 0;
  for (const r of answer.records) {
    const f = facts.get(r.id);
    const health = isHealthCategory(register, r.category);
    const reason = leftOutReason(r, f);
    if (reason || !f || r.value === null) {
      const entry = leftOut.get(reason ?? 'withheld') ?? { records: 0, categories: new Set<string>() };
      entry.records++;
      entry.categories.add(r.category);
      leftOut.set(reason ?? 'withheld', entry);
      if (health) clinicalLeftOut++;
      continue;
    }
    const field = f.collection_point ? register.collection[f.collection_point]?.fields[r.field] : undefined;
    records.push({
      id: r.id,
      subjectId: r.subjectId,
      field: r.field,
      label: (field?.label && pickText(field.label, lang)) || r.field,
      category: r.category,
      categoryTitle: r.categoryTitle,
      health,
      value: r.value,
      collectedAt: r.collectedAt,
      purposes: f.purposes.filter((_, i) => PORTABLE_BASES.has(f.bases[i] ?? '')),
      collectionPoint: f.collection_point,
    });
  }
  const clinical = records.filter((r) => r.health).length;
  const words = CLINICAL_NOTE[lang];
  return {
    format: 'custodian-portability/1',
    controller: answer.controller,
    request: { id: answer.request.id, receivedOn: answer.request.receivedOn, exportedAt: answer.request.answeredAt },
    records,
    leftOut: [...leftOut].map(([reason, e]) => ({ reason, records: e.records, categories: [...e.categories].sort() })),
    clinical: {
      included: clinical,
      leftOut: clinicalLeftOut,
      note: clinical > 0 ? words.included(clinical) : words.leftOut,
    },
  };
}

/** The portability export of an answer (built by buildAccessAnswer for the request's linked people). */
export async function buildPortabilityExport(deps: Pick<AnswerDeps, 'db' | 'register'>, answer: AccessAnswer): Promise<PortabilityExport> {
  const facts = new Map<string, RecordFacts>();
  for (const subjectId of new Set(answer.records.map((r) => r.subjectId))) {
    const overview = await getSubjectOverview(deps.db.kysely, subjectId);
    for (const row of overview?.records ?? []) facts.set(row.id, row);
  }
  return portableFrom(deps.register, answer, facts, deps.register.notice.language);
}

/** The health records of an export as a FHIR R4 `collection` Bundle, with the person's Patient resource. */
export function portabilityFhir(register: Register, exp: PortabilityExport): FhirBundle {
  return buildFhirBundle(register, exp.records, { id: exp.request.id, timestamp: exp.request.exportedAt, lang: register.notice.language });
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * One row per record (RFC 4180, CRLF). Values are written as given, not defused for spreadsheets: every value in a
 * portability export is one the person typed in themselves.
 */
export function portabilityCsv(exp: PortabilityExport): string {
  const rows = [['field', 'category', 'value', 'collected_at', 'purposes']];
  for (const r of exp.records) rows.push([r.field, r.category, r.value, r.collectedAt, r.purposes.join(' ')]);
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
