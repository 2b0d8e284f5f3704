// The access answer as a readable page, in the register's language.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Register } from '../register/load-register.ts';
import type { Language } from '../register/schema.ts';
import type { AccessAnswer } from './access-answer.ts';
import { ANSWER_STRINGS } from './answer-strings.ts';

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

/** `portability`: the page also offers the data the person gave as CSV and their health records as FHIR. */
export function renderAnswerHtml(answer: AccessAnswer, lang: Language, token: string, options: { portability?: boolean } = {}): string {
  return eta.render('./access-answer', { a: answer, lang, t: ANSWER_STRINGS[lang], token, portability: options.portability === true });
}

/** The page for an answer link that does not work (never issued, mistyped, or past its 30 days). */
export function renderLinkNotWorking(lang: Language, register: Pick<Register, 'controller' | 'rights'>): string {
  const contact = register.rights.email ?? register.controller.email ?? '';
  const [title, text] =
    lang === 'de'
      ? [
          'Dieser Link funktioniert nicht',
          `Der Link ist ungültig oder älter als 30 Tage. Schreiben Sie uns${contact ? ` an ${contact}` : ''}, dann senden wir Ihnen die Auskunft erneut.`,
        ]
      : [
          'This link does not work',
          `The link is not valid, or more than 30 days old. Write to us${contact ? ` at ${contact}` : ''} and we will send you the answer again.`,
        ];
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<!doctype html>\n<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)} · ${esc(register.controller.name)}</title></head><body><main style="max-width:40rem;padding:1.5rem;font:17px/1.5 system-ui,sans-serif"><h1>${esc(title)}</h1><p>${esc(text)}</p></main></body></html>\n`;
}
