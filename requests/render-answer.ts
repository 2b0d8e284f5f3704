// The access answer as a readable page, in the register's language.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Language } from '../register/schema.ts';
import type { AccessAnswer, WithheldReason } from './access-answer.ts';

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

const STRINGS = {
  en: {
    title: 'Your personal data',
    intro: (controller: string, received: string, answered: string) =>
      `This is ${controller}'s answer, on ${answered}, to your request of ${received} for a copy of your personal data.`,
    json: 'Download this answer as JSON (machine-readable)',
    withheld: (n: number) =>
      `${n} health record${n === 1 ? ' is' : 's are'} held back for now: the law asks us to obtain a health professional's opinion before releasing health records. We will send them once we have it, or tell you why not.`,
    data: 'The data we hold about you',
    none: 'We hold no personal data about you.',
    item: 'Item',
    value: 'Value',
    collected: 'Collected',
    kept: 'Kept until',
    restricted: 'restricted: stored only',
    reason: {
      'health-opinion-needed': "held back until a health professional's opinion is recorded",
      'serious-harm': 'held back: a health professional judged that releasing it would cause serious harm',
      erased: 'erased',
    } as Record<WithheldReason, string>,
    purposes: 'Why we use it, and on what legal basis',
    categories: 'The kinds of data',
    recipients: 'Who may receive it',
    disclosed: 'It was actually sent to:',
    retention: 'How long we keep it',
    sources: 'Where it came from',
    transfers: 'Transfers abroad and their safeguards',
    noTransfers: 'None of it is transferred abroad.',
    automated: 'Automated decisions',
    noAutomated: 'No decision about you is made by automated means alone.',
    rights: 'Your other rights',
  },
  de: {
    title: 'Ihre personenbezogenen Daten',
    intro: (controller: string, received: string, answered: string) =>
      `Dies ist die Auskunft von ${controller} vom ${answered} auf Ihre Anfrage vom ${received}.`,
    json: 'Diese Auskunft als JSON herunterladen (maschinenlesbar)',
    withheld: (n: number) =>
      `${n} Gesundheitsdatensatz${n === 1 ? ' wird' : 'sätze werden'} vorerst zurückgehalten: Vor der Herausgabe von Gesundheitsdaten holen wir die Einschätzung einer medizinischen Fachperson ein. Wir senden sie danach oder teilen Ihnen den Grund mit.`,
    data: 'Die Daten, die wir über Sie speichern',
    none: 'Wir speichern keine personenbezogenen Daten über Sie.',
    item: 'Angabe',
    value: 'Wert',
    collected: 'Erhoben',
    kept: 'Gespeichert bis',
    restricted: 'eingeschränkt: nur gespeichert',
    reason: {
      'health-opinion-needed': 'zurückgehalten, bis die Einschätzung einer medizinischen Fachperson vorliegt',
      'serious-harm': 'zurückgehalten: Nach Einschätzung einer medizinischen Fachperson würde die Herausgabe ernsthaften Schaden verursachen',
      erased: 'gelöscht',
    } as Record<WithheldReason, string>,
    purposes: 'Wofür wir sie nutzen und auf welcher Rechtsgrundlage',
    categories: 'Die Arten von Daten',
    recipients: 'Wer sie erhalten kann',
    disclosed: 'Tatsächlich übermittelt an:',
    retention: 'Wie lange wir sie speichern',
    sources: 'Woher sie stammen',
    transfers: 'Übermittlungen ins Ausland und ihre Garantien',
    noTransfers: 'Keine Daten werden ins Ausland übermittelt.',
    automated: 'Automatisierte Entscheidungen',
    noAutomated: 'Keine Entscheidung über Sie beruht ausschließlich auf automatisierter Verarbeitung.',
    rights: 'Ihre weiteren Rechte',
  },
};

export function renderAnswerHtml(answer: AccessAnswer, lang: Language, token: string): string {
  return eta.render('./access-answer', { a: answer, lang, t: STRINGS[lang], token });
}
