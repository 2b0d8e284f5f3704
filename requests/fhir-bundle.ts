// Health records as an HL7 FHIR R4 `collection` Bundle, for portability (and usable for an access answer): a
// Patient per person from the contact fields whose register definition says what they are (full name, date of
// birth, email, phone, postcode, address, identifiers), and per submission that holds health data:
// - a ServiceRequest when it names what is asked for (a choice field of a health category: the scan, the appliance),
//   pointing to the rest of the submission's health fields as supporting information;
// - an Observation for each health field's value (text, date, number or yes/no), coded by the form's label;
// - a DocumentReference for a file field.
// Only fields the register defines can be mapped; anything else stays in the JSON and CSV exports.
import { createHash } from 'node:crypto';
import type { Register } from '../register/load-register.ts';
import type { Field, Language } from '../register/schema.ts';
import { pickText } from '../register/text.ts';

/** A record as the bundle needs it (a portable record, or an access answer's record with its collection point). */
export interface FhirRecordInput {
  readonly id: string;
  readonly subjectId: string;
  readonly field: string;
  readonly category: string;
  readonly value: string;
  readonly collectedAt: string;
  readonly collectionPoint: string | null;
}

type FhirResource = { resourceType: string; id: string } & Record<string, unknown>;

export interface FhirBundle {
  readonly resourceType: 'Bundle';
  readonly type: 'collection';
  readonly identifier: { system: string; value: string };
  readonly timestamp: string;
  readonly entry: readonly { fullUrl: string; resource: FhirResource }[];
}

export function isHealthCategory(register: Register, category: string): boolean {
  return Object.hasOwn(register.data, category) && register.data[category]!.special === 'health';
}

/** A stable UUID for a resource made from records (the same export gives the same ids). */
function uuidFor(kind: string, key: string): string {
  const h = createHash('sha256').update(`custodian-fhir:${kind}:${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ref = (id: string) => ({ reference: `urn:uuid:${id}` });

function fieldOf(register: Register, r: FhirRecordInput): { field: Field; aboutPointSubject: boolean; source: string } | null {
  const point = r.collectionPoint && Object.hasOwn(register.collection, r.collectionPoint) ? register.collection[r.collectionPoint]! : null;
  const field = point && Object.hasOwn(point.fields, r.field) ? point.fields[r.field]! : null;
  if (!point || !field) return null;
  return { field, aboutPointSubject: field.about === undefined || field.about === point.subject, source: point.source };
}

/** The Patient: only fields that are unmistakably the person's own name, birth date, contact points or numbers. */
function patientOf(register: Register, subjectId: string, records: readonly FhirRecordInput[], lang: Language): FhirResource {
  const patient: FhirResource = { resourceType: 'Patient', id: subjectId };
  const telecom: { system: string; value: string; use?: string }[] = [];
  const identifier: { type: { text: string }; value: string }[] = [];
  const address: { text?: string; postalCode?: string } = {};
  for (const r of records) {
    const def = fieldOf(register, r);
    if (!def?.aboutPointSubject || isHealthCategory(register, r.category)) continue;
    const { field } = def;
    const last = r.field.split('.').at(-1) ?? r.field;
    if (field['full-name']) patient.name = [{ text: r.value }];
    else if (field['birth-date'] && /^\d{4}-\d{2}-\d{2}$/.test(r.value)) patient.birthDate = r.value;
    else if (field.type === 'email' || field.identifier === 'email') telecom.push({ system: 'email', value: r.value });
    else if (field.type === 'phone' || field.identifier === 'phone')
      telecom.push({ system: 'phone', value: r.value, ...(/mobile/.test(last) ? { use: 'mobile' } : {}) });
    else if (field.identifier)
      identifier.push({ type: { text: pickText(register.identifiers[field.identifier]?.title, lang) ?? field.identifier }, value: r.value });
    else if (field.type === 'postcode') address.postalCode = r.value;
    else if (last === 'address') address.text = r.value;
  }
  if (identifier.length > 0) patient.identifier = identifier;
  if (telecom.length > 0) patient.telecom = telecom;
  if (address.text || address.postalCode) patient.address = [address];
  return patient;
}

function observationValue(field: Field | undefined, value: string): Record<string, unknown> {
  if (field?.type === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return { valueDateTime: value };
  if (field?.type === 'number' && Number.isFinite(Number(value)) && value.trim() !== '') return { valueQuantity: { value: Number(value) } };
  if (field?.type === 'boolean' && (value === 'true' || value === 'false')) return { valueBoolean: value === 'true' };
  return { valueString: value };
}

/** The bundle for these records (their health records and their people); `id` names what it answers (a request). */
export function buildFhirBundle(
  register: Register,
  records: readonly FhirRecordInput[],
  options: { id: string; timestamp: string; lang: Language },
): FhirBundle {
  const { lang } = options;
  const resources: FhirResource[] = [];
  const bySubject = new Map<string, FhirRecordInput[]>();
  for (const r of records) bySubject.set(r.subjectId, [...(bySubject.get(r.subjectId) ?? []), r]);
  for (const [subjectId, own] of bySubject) {
    const health = own.filter((r) => isHealthCategory(register, r.category));
    if (health.length === 0) continue;
    resources.push(patientOf(register, subjectId, own, lang));
    // One submission: the same collection point at the same moment.
    const submissions = new Map<string, FhirRecordInput[]>();
    for (const r of health) {
      const key = `${r.collectionPoint ?? ''}|${r.collectedAt}`;
      submissions.set(key, [...(submissions.get(key) ?? []), r]);
    }
    for (const group of submissions.values()) {
      const labelled = group.map((r) => {
        const def = fieldOf(register, r);
        return { r, def, label: (def?.field.label && pickText(def.field.label, lang)) || r.field };
      });
      const asked = labelled.find((x) => x.def?.field.type === 'choice');
      const supporting: string[] = [];
      for (const x of labelled) {
        if (x === asked) continue;
        if (x.def?.field.type === 'file') {
          resources.push({
            resourceType: 'DocumentReference',
            id: x.r.id,
            identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${x.r.id}` }],
            status: 'current',
            subject: ref(subjectId),
            date: x.r.collectedAt,
            description: x.label,
            content: [{ attachment: { title: x.r.value } }],
          });
        } else {
          resources.push({
            resourceType: 'Observation',
            id: x.r.id,
            identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${x.r.id}` }],
            status: 'final',
            code: { text: x.label },
            subject: ref(subjectId),
            issued: x.r.collectedAt,
            ...observationValue(x.def?.field, x.r.value),
          });
        }
        supporting.push(x.r.id);
      }
      if (asked) {
        const point = asked.r.collectionPoint ? register.collection[asked.r.collectionPoint] : undefined;
        resources.push({
          resourceType: 'ServiceRequest',
          id: uuidFor('ServiceRequest', asked.r.id),
          identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${asked.r.id}` }],
          status: 'unknown',
          // Asked for by the person themselves: a proposal; by a clinician: an order.
          intent: asked.def?.source === 'subject' ? 'proposal' : 'order',
          code: { text: asked.r.value },
          subject: ref(subjectId),
          authoredOn: asked.r.collectedAt,
          ...(point ? { note: [{ text: `${pickText(point.title, lang)}: ${asked.label}` }] } : {}),
          ...(supporting.length > 0 ? { supportingInfo: supporting.map(ref) } : {}),
        });
      }
    }
  }
  return {
    resourceType: 'Bundle',
    type: 'collection',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${options.id}` },
    timestamp: options.timestamp,
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })),
  };
}
