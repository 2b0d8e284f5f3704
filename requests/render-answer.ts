// The access answer as a readable page, in the register's language.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Language } from '../register/schema.ts';
import type { AccessAnswer } from './access-answer.ts';
import { ANSWER_STRINGS } from './answer-strings.ts';

const eta = new Eta({ views: fileURLToPath(new URL('./templates/', import.meta.url)), autoEscape: true, cache: true });

/** `portability`: the page also offers the data the person gave as CSV and their health records as FHIR. */
export function renderAnswerHtml(answer: AccessAnswer, lang: Language, token: string, options: { portability?: boolean } = {}): string {
  return eta.render('./access-answer', { a: answer, lang, t: ANSWER_STRINGS[lang], token, portability: options.portability === true });
}
