// The record of processing activities (Art. 30): one row per purpose with every Art. 30(1) field, and, for a
// business that is also a processor, the Art. 30(2) record. In English, as JSON, CSV (RFC 4180) or HTML.
import type { Register } from '../register/load-register.ts';
import type { RegisterData, Text } from '../register/schema.ts';
import { DPV } from '../register/vocabulary.ts';
import { link, p, type Block, type Rich, type Section } from './document-model.ts';
import { basisArticle, conditionArticle, countryName, formatDate, isTransferAbroad, registrationsOf, shortFingerprint, upperFirst } from './describe-terms.ts';
import { pickText } from '../register/text.ts';
import { phraseRetention } from './phrase-retention.ts';
import { renderHtmlDocument } from './render-html.ts';
import { stringsFor } from './strings.ts';

interface RopaRow {
  readonly purposeKey: string;
  readonly purpose: string;
  readonly description: string;
  readonly purposeDpv: string;
  readonly controller: string;
  readonly jointControllers: readonly string[];
  readonly representative: string;
  readonly dpo: string;
  readonly legalBasis: string;
  readonly legalBasisDpv: string;
  readonly legitimateInterest: string;
  readonly law: string;
  readonly art9Condition: string;
  readonly art9ConditionDpv: string;
  readonly dataSubjects: readonly string[];
  readonly personalData: readonly string[];
  readonly specialCategories: readonly string[];
  readonly recipients: readonly string[];
  readonly transfers: readonly string[];
  readonly erasureTimeLimit: string;
  readonly securityMeasures: readonly string[];
  readonly sources: readonly string[];
}

interface ProcessorRow {
  readonly activityKey: string;
  readonly activity: string;
  readonly processor: string;
  readonly representative: string;
  readonly dpo: string;
  readonly controllers: readonly string[];
  readonly categoriesOfProcessing: readonly string[];
  readonly dataSubjects: readonly string[];
  readonly personalData: readonly string[];
  readonly recipients: readonly string[];
  readonly transfers: readonly string[];
  readonly securityMeasures: readonly string[];
}

export interface Ropa {
  readonly controller: {
    readonly name: string;
    readonly contact: string;
    readonly registration: string;
    readonly dpo: string;
    readonly representative: string;
    readonly jurisdiction: string;
    readonly roles: readonly string[];
  };
  readonly record: readonly RopaRow[];
  readonly processorRecord?: readonly ProcessorRow[];
  readonly generatedFrom: { readonly fingerprint: string; readonly version: string | null; readonly effective: string };
}

const s = stringsFor('en');
const t = (text: Text) => pickText(text, 'en');

const DPV_NAMESPACES: Record<string, string> = {
  dpv: 'https://w3id.org/dpv#',
  pd: 'https://w3id.org/dpv/pd#',
  'dpv-pd': 'https://w3id.org/dpv/pd#',
  legal: 'https://w3id.org/dpv/legal/eu/gdpr#',
  risk: 'https://w3id.org/dpv/risk#',
  tech: 'https://w3id.org/dpv/tech#',
  loc: 'https://w3id.org/dpv/loc#',
};

/** dpv:Contract → https://w3id.org/dpv#Contract. */
function dpvIri(term: string | undefined): string {
  if (!term) return '';
  const [prefix, local] = term.split(':');
  const ns = prefix ? DPV_NAMESPACES[prefix] : undefined;
  return ns && local ? ns + local : term;
}

function contact(
  c:
    | { title?: Text; name?: string | undefined; email?: string | undefined; phone?: string | undefined; address?: Text | undefined; url?: string | undefined }
    | undefined,
): string {
  if (!c) return '';
  const who = [c.title ? t(c.title) : undefined, c.name ? `(${c.name})` : undefined].filter(Boolean).join(' ');
  return [who, c.address ? t(c.address) : undefined, c.email, c.phone, c.url].filter(Boolean).join(', ');
}

function recipientLine(r: RegisterData, key: string): string {
  const rec = r.recipients[key];
  if (!rec) return key;
  const names = rec.names.length ? `; ${rec.names.join(', ')}` : '';
  return `${t(rec.title)} (${s.roleShort[rec.role]}; ${countryName(rec.country, 'en')}${names})`;
}

function transferLines(r: RegisterData, recipients: readonly string[]): string[] {
  return recipients.flatMap((key) => {
    const rec = r.recipients[key];
    if (!rec || !isTransferAbroad(r.controller.jurisdiction, rec.country)) return [];
    const safeguard = s.safeguardShort[rec.transfer?.safeguard ?? 'adequacy'];
    return [`${t(rec.title)}: ${countryName(rec.country, 'en')}, ${safeguard}${rec.transfer?.note ? ` (${t(rec.transfer.note)})` : ''}`];
  });
}

function categoryLine(r: RegisterData, key: string): string {
  const category = r.data[key];
  if (!category) return key;
  return category.special ? `${t(category.title)} (special category: ${s.special[category.special]})` : t(category.title);
}

function titles<T extends { title: Text }>(pool: Readonly<Record<string, T>>, keys: readonly string[]): string[] {
  return keys.map((k) => (pool[k] ? t(pool[k].title) : k));
}

function buildRopa(register: Register): Ropa {
  const r = register;
  const { controller } = r;
  const law = controller.jurisdiction;
  const controllerContact = contact({
    title: controller.name,
    address: controller.address,
    email: controller.email,
    phone: controller.phone,
    url: controller.website,
  });
  const security = r.security.map(t);

  const record = Object.entries(r.purposes).map(([key, purpose]): RopaRow => {
    const special = [...new Set(purpose.data.flatMap((d) => (r.data[d]?.special ? [s.special[r.data[d].special]] : [])))];
    const collected = Object.values(r.collection)
      .filter((c) => c.purposes.includes(key))
      .map((c) => {
        const from =
          c.source === 'subject'
            ? 'The data subject'
            : r.subjects[c.source]
              ? t(r.subjects[c.source]!.title)
              : r.sources[c.source]
                ? t(r.sources[c.source]!.title)
                : c.source;
        return `${from}, via ${t(c.title)} (${s.channel[c.channel].toLowerCase()})`;
      });
    const otherSources = purpose.sources.map((k) => {
      const src = r.sources[k];
      if (!src) return k;
      const where = [src.country ? countryName(src.country, 'en') : undefined, src.public ? 'publicly accessible' : undefined].filter(Boolean).join(', ');
      return where ? `${t(src.title)} (${where})` : t(src.title);
    });
    return {
      purposeKey: key,
      purpose: t(purpose.title),
      description: purpose.description ? t(purpose.description) : '',
      purposeDpv: dpvIri(purpose.dpv),
      controller: controllerContact,
      jointControllers: purpose.recipients.filter((k) => r.recipients[k]?.role === 'joint-controller').map((k) => recipientLine(r, k)),
      representative: contact(controller.representative),
      dpo: contact(controller.dpo),
      legalBasis: `${upperFirst(s.basisShort[purpose.basis])} (${basisArticle(purpose.basis, law, 'en')})`,
      legalBasisDpv: dpvIri(DPV.basis[purpose.basis]),
      legitimateInterest: purpose.interest ? t(purpose.interest) : '',
      law: purpose.law ? t(purpose.law) : '',
      art9Condition: purpose.condition ? `${upperFirst(s.conditionShort[purpose.condition])} (${conditionArticle(purpose.condition, law, 'en')})` : '',
      art9ConditionDpv: purpose.condition ? dpvIri(DPV.condition[purpose.condition]) : '',
      dataSubjects: titles(r.subjects, purpose.subjects),
      personalData: purpose.data.map((d) => categoryLine(r, d)),
      specialCategories: special,
      recipients: purpose.recipients.map((k) => recipientLine(r, k)),
      transfers: transferLines(r, purpose.recipients),
      erasureTimeLimit: upperFirst(phraseRetention(r, purpose.retention, 'en')) + (purpose.retention.law ? ` (${t(purpose.retention.law)})` : ''),
      securityMeasures: security,
      sources: [...collected, ...otherSources],
    };
  });

  const processing = controller.roles.includes('processor') ? r.processing : undefined;
  const processorRecord = processing
    ? Object.entries(processing.activities).map(
        ([key, activity]): ProcessorRow => ({
          activityKey: key,
          activity: t(activity.title),
          processor: controllerContact,
          representative: contact(controller.representative),
          dpo: contact(controller.dpo),
          controllers: activity.controllers.map((k) => (processing.controllers[k] ? contact(processing.controllers[k]) : k)),
          categoriesOfProcessing: [t(activity.title)],
          dataSubjects: titles(r.subjects, activity.subjects),
          personalData: activity.data.map((d) => categoryLine(r, d)),
          recipients: activity.recipients.map((k) => recipientLine(r, k)),
          transfers: transferLines(r, activity.recipients),
          securityMeasures: security,
        }),
      )
    : undefined;

  return {
    controller: {
      name: controller.name,
      contact: controllerContact,
      registration: registrationsOf(controller)
        .map((x) => `${x.authority} ${x.number}`)
        .join('; '),
      dpo: contact(controller.dpo),
      representative: contact(controller.representative),
      jurisdiction: controller.jurisdiction,
      roles: [...controller.roles],
    },
    record,
    ...(processorRecord ? { processorRecord } : {}),
    generatedFrom: { fingerprint: r.fingerprint, version: r.notice.version ?? null, effective: r.notice.effective },
  };
}

type Cell = string | readonly string[];
type Column<T> = readonly [string, (row: T) => Cell];

const RECORD_COLUMNS: readonly Column<RopaRow>[] = [
  ['Purpose', (x) => x.purpose],
  ['Description', (x) => x.description],
  ['Purpose (DPV)', (x) => x.purposeDpv],
  ['Controller', (x) => x.controller],
  ['Joint controllers', (x) => x.jointControllers],
  ['Representative', (x) => x.representative],
  ['Data protection officer', (x) => x.dpo],
  ['Legal basis', (x) => x.legalBasis],
  ['Legal basis (DPV)', (x) => x.legalBasisDpv],
  ['Legitimate interest', (x) => x.legitimateInterest],
  ['Law', (x) => x.law],
  ['Art. 9 condition', (x) => x.art9Condition],
  ['Art. 9 condition (DPV)', (x) => x.art9ConditionDpv],
  ['Categories of data subjects', (x) => x.dataSubjects],
  ['Categories of personal data', (x) => x.personalData],
  ['Special categories', (x) => x.specialCategories],
  ['Categories of recipients', (x) => x.recipients],
  ['Transfers to third countries and safeguards', (x) => x.transfers],
  ['Time limit for erasure', (x) => x.erasureTimeLimit],
  ['Technical and organisational security measures', (x) => x.securityMeasures],
  ['Sources of the data', (x) => x.sources],
];

const PROCESSOR_COLUMNS: readonly Column<ProcessorRow>[] = [
  ['Activity', (x) => x.activity],
  ['Processor', (x) => x.processor],
  ['Representative', (x) => x.representative],
  ['Data protection officer', (x) => x.dpo],
  ['Controllers on whose behalf we act', (x) => x.controllers],
  ['Categories of processing', (x) => x.categoriesOfProcessing],
  ['Categories of data subjects', (x) => x.dataSubjects],
  ['Categories of personal data', (x) => x.personalData],
  ['Sub-processors and other recipients', (x) => x.recipients],
  ['Transfers to third countries and safeguards', (x) => x.transfers],
  ['Technical and organisational security measures', (x) => x.securityMeasures],
];

const joinCell = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.join('; '));

/** RFC 4180: quote fields holding a comma, quote or line break; double the quotes; CRLF between records. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csv(ropa: Ropa): string {
  // One table for both records: a "Record" column says which article a row answers, and each record's own
  // columns are empty on the other's rows.
  const shared: Record<string, string> = { Controller: 'Controller or processor', 'Sub-processors and other recipients': 'Categories of recipients' };
  const recordHeads = RECORD_COLUMNS.slice(1).map(([h]) => shared[h] ?? h);
  const header = ['Record', 'Purpose or activity', ...recordHeads, 'Controllers on whose behalf we act', 'Categories of processing'];
  const rows: string[][] = ropa.record.map((x) => ['Art. 30(1) controller', ...RECORD_COLUMNS.map(([, get]) => joinCell(get(x))), '', '']);
  for (const x of ropa.processorRecord ?? []) {
    const byHeader = new Map(PROCESSOR_COLUMNS.map(([h, get]) => [h === 'Processor' ? shared.Controller : (shared[h] ?? h), joinCell(get(x))]));
    rows.push(['Art. 30(2) processor', x.activity, ...header.slice(2).map((h) => byHeader.get(h) ?? '')]);
  }
  return `${[header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function cellRich(value: Cell): Rich {
  const text = joinCell(value);
  return /^https:\/\//.test(text) ? [link(text, text)] : [text];
}

function table<T>(caption: string, columns: readonly Column<T>[], row: T): Block {
  return {
    kind: 'table',
    caption,
    head: ['Field', 'Value'],
    rowHeaders: true,
    rows: columns.map(([h, get]) => [[h], joinCell(get(row)) === '' ? ['None'] : cellRich(get(row))]),
  };
}

function html(ropa: Ropa, register: Register): string {
  const c = ropa.controller;
  const sections: Section[] = [
    {
      id: 'controller',
      heading: 'Controller',
      blocks: [
        {
          kind: 'dl',
          items: [
            { term: 'Name and contact', detail: [c.contact] },
            ...(c.registration ? [{ term: 'Registration', detail: [c.registration] }] : []),
            ...(c.dpo ? [{ term: 'Data protection officer', detail: [c.dpo] }] : []),
            ...(c.representative ? [{ term: 'Representative', detail: [c.representative] }] : []),
            { term: 'Jurisdiction', detail: [c.jurisdiction === 'uk' ? 'United Kingdom (UK GDPR)' : 'European Union (GDPR)'] },
            { term: 'Roles', detail: [c.roles.join(', ')] },
          ],
        },
      ],
    },
    {
      id: 'record',
      heading: 'Processing as controller (Art. 30(1))',
      blocks: ropa.record.flatMap((row) => [
        { kind: 'h3', text: row.purpose, id: `purpose-${row.purposeKey}` } as Block,
        table(row.purpose, RECORD_COLUMNS.slice(1), row),
      ]),
    },
  ];
  if (ropa.processorRecord) {
    sections.push({
      id: 'processor-record',
      heading: 'Processing as processor (Art. 30(2))',
      blocks: ropa.processorRecord.flatMap((row) => [
        { kind: 'h3', text: row.activity, id: `activity-${row.activityKey}` } as Block,
        table(row.activity, PROCESSOR_COLUMNS.slice(1), row),
      ]),
    });
  }
  const g = ropa.generatedFrom;
  return renderHtmlDocument({
    lang: 'en',
    title: `Record of processing activities: ${c.name}`,
    heading: 'Record of processing activities',
    subtitle: `${c.name}${g.version ? `, register version ${g.version}` : ''}, effective ${formatDate(g.effective, 'en')}`,
    lead: [
      p(
        'Kept under Article 30 of the ',
        register.controller.jurisdiction === 'uk' ? 'UK GDPR' : 'GDPR',
        ' and generated from the privacy register, so it matches what the software does.',
      ),
    ],
    contents: 'Contents',
    sections,
    footer: [p(`Register fingerprint: ${shortFingerprint(g.fingerprint)} (${g.fingerprint})`)],
  });
}

export function renderRopa(register: Register, format: 'json' | 'csv' | 'html'): string {
  const ropa = buildRopa(register);
  if (format === 'json') return `${JSON.stringify(ropa, null, 2)}\n`;
  if (format === 'csv') return csv(ropa);
  return html(ropa, register);
}
