// The messages a rights request sends, in the register's language: the confirmation link to the requester.
import type { Language } from '../register/schema.ts';
import type { RequestType } from './tables.ts';

const RIGHT_NAMES: Record<Language, Record<RequestType, string>> = {
  en: {
    access: 'a copy of your data',
    rectification: 'correction of your data',
    erasure: 'erasure of your data',
    restriction: 'restriction of the use of your data',
    objection: 'your objection to the use of your data',
    portability: 'your data in a portable format',
    'withdraw-consent': 'withdrawal of your consent',
    complaint: 'your complaint about how we handle your data',
  },
  de: {
    access: 'eine Kopie Ihrer Daten',
    rectification: 'die Berichtigung Ihrer Daten',
    erasure: 'die Löschung Ihrer Daten',
    restriction: 'die Einschränkung der Verarbeitung Ihrer Daten',
    objection: 'Ihren Widerspruch gegen die Verarbeitung Ihrer Daten',
    portability: 'Ihre Daten in einem übertragbaren Format',
    'withdraw-consent': 'den Widerruf Ihrer Einwilligung',
    complaint: 'Ihre Beschwerde über den Umgang mit Ihren Daten',
  },
};

export function rightName(lang: Language, type: RequestType): string {
  return RIGHT_NAMES[lang][type];
}

export interface ConfirmationMail {
  readonly subjectLine: string;
  readonly text: string;
}

export function confirmationMail(input: { lang: Language; controller: string; type: RequestType; link: string; days: number }): ConfirmationMail {
  const what = rightName(input.lang, input.type);
  if (input.lang === 'de')
    return {
      subjectLine: `Bitte bestätigen Sie Ihre Anfrage an ${input.controller}`,
      text: [
        `Guten Tag,`,
        ``,
        `wir haben eine Anfrage erhalten: ${what}. Bitte bestätigen Sie, dass sie von Ihnen stammt, indem Sie diesen Link öffnen und auf „Bestätigen“ klicken:`,
        ``,
        input.link,
        ``,
        `Der Link ist ${input.days} Tage gültig. Erst nach der Bestätigung bearbeiten wir die Anfrage. Wenn Sie keine Anfrage gestellt haben, können Sie diese E-Mail ignorieren; ohne Bestätigung geschieht nichts.`,
        ``,
        input.controller,
      ].join('\n'),
    };
  return {
    subjectLine: `Please confirm your request to ${input.controller}`,
    text: [
      `Hello,`,
      ``,
      `We have received a request for ${what}. Please confirm that it came from you by opening this link and pressing "Confirm":`,
      ``,
      input.link,
      ``,
      `The link works for ${input.days} days. We act on the request once it is confirmed. If you did not make this request, you can ignore this message: nothing happens without confirmation.`,
      ``,
      input.controller,
    ].join('\n'),
  };
}
