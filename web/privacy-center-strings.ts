// Every fixed phrase of the privacy centre, in English and German (the same shape: the type checker keeps them in
// step). Each right is named, said in one plain sentence, and given its real limits.
import type { Language } from '../register/schema.ts';
import type { RequestType } from '../requests/tables.ts';

type Jurisdiction = 'uk' | 'eu';

export interface CentreStrings {
  readonly title: string;
  readonly intro: string;
  readonly howItWorks: string;
  readonly noticeLink: string;
  readonly otherLanguage: string;
  readonly rights: Readonly<Record<RequestType, { readonly title: string; readonly what: (j: Jurisdiction) => string }>>;
  readonly ask: string;
  readonly form: {
    readonly email: string;
    readonly emailHint: string;
    readonly name: string;
    readonly optional: string;
    readonly details: string;
    readonly detailsHint: string;
    readonly someoneElseLegend: string;
    readonly someoneElse: string;
    readonly someoneElseHint: string;
    readonly theirName: string;
    readonly yourNameForThem: string;
    readonly relationship: string;
    readonly choose: string;
    readonly relationships: Readonly<Record<Relationship, string>>;
    readonly authority: string;
    readonly authorityHint: string;
    readonly send: string;
    readonly back: string;
  };
  readonly problems: {
    readonly heading: string;
    readonly emailMissing: string;
    readonly emailInvalid: string;
    readonly tooLong: (max: number) => string;
    readonly yourNameNeeded: string;
    readonly theirNameMissing: string;
    readonly relationshipMissing: string;
    readonly authorityMissing: string;
    readonly rateLimited: string;
  };
  readonly sent: {
    readonly title: string;
    readonly checkEmail: (days: number) => string;
    readonly deadline: (j: Jurisdiction, due: string) => string;
    readonly extension: string;
    readonly nothingYet: string;
  };
  readonly confirm: {
    readonly title: string;
    readonly explain: string;
    readonly button: string;
    readonly doneTitle: string;
    readonly done: (due: string) => string;
    readonly extension: string;
    readonly invalidTitle: string;
    readonly invalid: (days: number) => string;
    readonly startAgain: string;
  };
  readonly refused: { readonly title: string; readonly text: string };
}

export const RELATIONSHIPS = ['parent', 'guardian', 'carer', 'attorney', 'solicitor', 'insurer', 'other'] as const;
type Relationship = (typeof RELATIONSHIPS)[number];

const en: CentreStrings = {
  title: 'Your privacy rights',
  intro: 'You can ask us to do any of the following with the personal data we hold about you. It is free, and we answer within the time the law gives us.',
  howItWorks: 'Choose a right, tell us how to reach you, and confirm the request from the email we send you.',
  noticeLink: 'Read our privacy notice',
  otherLanguage: 'Deutsch',
  rights: {
    access: {
      title: 'Get a copy of your data',
      what: (j) =>
        `We send you a copy of the data we hold about you, with what we use it for, who received it and how long we keep it; we leave out what would reveal other people${j === 'uk' ? ', and health information a health professional says could cause serious harm' : ''}.`,
    },
    rectification: {
      title: 'Correct your data',
      what: () =>
        'We correct data that is wrong and complete data that is missing; a clinical opinion recorded at the time is not rewritten, but we add your statement to it.',
    },
    erasure: {
      title: 'Erase your data',
      what: () =>
        'We delete what we may delete; health records the law requires us to keep are kept and restricted instead, and we tell you which ones and why.',
    },
    restriction: {
      title: 'Restrict the use of your data',
      what: () =>
        'We only store your data and stop using it, for example while its accuracy is checked; we may still use it for legal claims, to protect someone else, or with your consent.',
    },
    objection: {
      title: 'Object to the use of your data',
      what: () =>
        'An objection to direct marketing is always honoured at once; for other uses based on our legitimate interests we stop unless we have compelling grounds, which we explain to you.',
    },
    portability: {
      title: 'Take your data elsewhere',
      what: () =>
        'We give you the data you provided under your consent or a contract in a machine-readable format, or send it to another organisation; this does not cover what others sent us or what we worked out.',
    },
    'withdraw-consent': {
      title: 'Withdraw your consent',
      what: () => 'We stop what you had agreed to; what we did before stays lawful, and data we must keep for another reason, such as a legal duty, is kept.',
    },
    complaint: {
      title: 'Make a complaint',
      what: (j) =>
        j === 'uk'
          ? "Tell us what went wrong with your data: we acknowledge your complaint within 30 days and tell you the outcome, and you can also complain to the Information Commissioner's Office."
          : 'Tell us what went wrong with your data and we tell you the outcome; you can also complain to a data protection supervisory authority at any time.',
    },
  },
  ask: 'Ask for this',
  form: {
    email: 'Your email address',
    emailHint: 'We send a link to this address to confirm that the request comes from you.',
    name: 'Your name',
    optional: '(optional)',
    details: 'Anything that helps us',
    detailsHint: 'For example which data is wrong, or where and when you were a patient or customer. Up to 5,000 characters.',
    someoneElseLegend: 'Asking for someone else',
    someoneElse: 'I am asking for someone else',
    someoneElseHint: 'For example as a parent for a child, or as a solicitor for a client. We may ask you for proof that you may act for them.',
    theirName: 'Their name',
    yourNameForThem: 'Your name is needed when you ask for someone else.',
    relationship: 'Your relationship to them',
    choose: 'Choose…',
    relationships: {
      parent: 'Parent',
      guardian: 'Legal guardian',
      carer: 'Carer',
      attorney: 'Holder of a power of attorney',
      solicitor: 'Solicitor',
      insurer: 'Insurer',
      other: 'Other',
    },
    authority: 'Your authority to ask for them',
    authorityHint: 'For example parental responsibility, a signed letter of authority, or a power of attorney.',
    send: 'Send the request',
    back: 'All rights',
  },
  problems: {
    heading: 'There is a problem',
    emailMissing: 'Enter your email address',
    emailInvalid: 'Enter an email address like name@example.com',
    tooLong: (max) => `Use no more than ${max.toLocaleString('en-GB')} characters`,
    yourNameNeeded: 'Enter your name: it is needed when you ask for someone else',
    theirNameMissing: 'Enter the name of the person you are asking for',
    relationshipMissing: 'Choose your relationship to them',
    authorityMissing: 'Say what gives you the authority to ask for them',
    rateLimited: 'Several requests from this email address are already waiting for confirmation. Please use the link we emailed you, or try again tomorrow.',
  },
  sent: {
    title: 'Check your email',
    checkEmail: (days) =>
      `We have sent you an email with a link. Open it and press "Confirm" to confirm that the request comes from you. The link works for ${days} days.`,
    deadline: (j, due) =>
      j === 'uk'
        ? `We have one month to answer, counted from the day you confirm: if you confirm today, we will answer by ${due}.`
        : `We have one month from today to answer: we will answer by ${due}.`,
    extension: 'If your request is complex, or you send us several, we may need up to two further months; if so, we tell you why within the first month.',
    nothingYet: 'Nothing happens until you confirm. If no email arrives, check your spam folder.',
  },
  confirm: {
    title: 'Confirm your request',
    explain: 'Press the button to confirm that you made this request. We then start working on it.',
    button: 'Confirm',
    doneTitle: 'Your request is confirmed',
    done: (due) => `Thank you. We will answer by ${due}.`,
    extension: 'If your request is complex, we may need up to two further months; if so, we tell you why before the month is over.',
    invalidTitle: 'This link does not work',
    invalid: (days) =>
      `The link is not valid, has already been used or has expired (links work for ${days} days). If you still want to make the request, please ask again.`,
    startAgain: 'Make a request',
  },
  refused: {
    title: 'This form could not be sent',
    text: 'The form was sent from another website. Please open our "Your privacy rights" page and send the form from there.',
  },
};

const de: CentreStrings = {
  title: 'Ihre Datenschutzrechte',
  intro:
    'Sie können von uns Folgendes zu den personenbezogenen Daten verlangen, die wir über Sie speichern. Das ist kostenlos, und wir antworten innerhalb der gesetzlichen Frist.',
  howItWorks: 'Wählen Sie ein Recht, sagen Sie uns, wie wir Sie erreichen, und bestätigen Sie die Anfrage über die E-Mail, die wir Ihnen senden.',
  noticeLink: 'Unsere Datenschutzhinweise lesen',
  otherLanguage: 'English',
  rights: {
    access: {
      title: 'Auskunft und Kopie Ihrer Daten',
      what: (j) =>
        `Wir senden Ihnen eine Kopie der Daten, die wir über Sie speichern, und sagen Ihnen, wofür wir sie verwenden, wer sie erhalten hat und wie lange wir sie aufbewahren; wir lassen weg, was andere Personen preisgeben würde${j === 'uk' ? ', sowie Gesundheitsdaten, die nach Auffassung einer medizinischen Fachkraft ernsthaften Schaden verursachen könnten' : ''}.`,
    },
    rectification: {
      title: 'Berichtigung Ihrer Daten',
      what: () =>
        'Wir berichtigen unrichtige Daten und vervollständigen unvollständige; eine damals festgehaltene ärztliche Einschätzung schreiben wir nicht um, wir fügen ihr aber Ihre Stellungnahme hinzu.',
    },
    erasure: {
      title: 'Löschung Ihrer Daten',
      what: () =>
        'Wir löschen, was wir löschen dürfen; Gesundheitsunterlagen, die wir gesetzlich aufbewahren müssen, bleiben erhalten und werden stattdessen gesperrt, und wir sagen Ihnen, welche und warum.',
    },
    restriction: {
      title: 'Einschränkung der Verarbeitung',
      what: () =>
        'Wir speichern Ihre Daten nur noch und verwenden sie nicht mehr, etwa solange ihre Richtigkeit geprüft wird; für Rechtsansprüche, zum Schutz einer anderen Person oder mit Ihrer Einwilligung dürfen wir sie weiter verwenden.',
    },
    objection: {
      title: 'Widerspruch gegen die Verarbeitung',
      what: () =>
        'Einem Widerspruch gegen Direktwerbung folgen wir immer sofort; andere Verarbeitungen, die auf unseren berechtigten Interessen beruhen, beenden wir, es sei denn, wir haben zwingende Gründe, die wir Ihnen erläutern.',
    },
    portability: {
      title: 'Übertragung Ihrer Daten',
      what: () =>
        'Wir geben Ihnen die Daten, die Sie uns aufgrund Ihrer Einwilligung oder eines Vertrags bereitgestellt haben, in einem maschinenlesbaren Format oder übermitteln sie an eine andere Stelle; nicht erfasst ist, was uns andere geschickt haben oder was wir selbst abgeleitet haben.',
    },
    'withdraw-consent': {
      title: 'Widerruf Ihrer Einwilligung',
      what: () =>
        'Wir beenden, wozu Sie eingewilligt hatten; was wir bis dahin getan haben, bleibt rechtmäßig, und Daten, die wir aus einem anderen Grund aufbewahren müssen, etwa wegen einer gesetzlichen Pflicht, bleiben erhalten.',
    },
    complaint: {
      title: 'Beschwerde einreichen',
      what: (j) =>
        j === 'uk'
          ? 'Sagen Sie uns, was mit Ihren Daten schiefgelaufen ist: Wir bestätigen den Eingang Ihrer Beschwerde innerhalb von 30 Tagen und teilen Ihnen das Ergebnis mit; Sie können sich außerdem beim Information Commissioner’s Office beschweren.'
          : 'Sagen Sie uns, was mit Ihren Daten schiefgelaufen ist, und wir teilen Ihnen das Ergebnis mit; Sie können sich außerdem jederzeit bei einer Datenschutz-Aufsichtsbehörde beschweren.',
    },
  },
  ask: 'Dies beantragen',
  form: {
    email: 'Ihre E-Mail-Adresse',
    emailHint: 'Wir senden an diese Adresse einen Link, mit dem Sie bestätigen, dass die Anfrage von Ihnen stammt.',
    name: 'Ihr Name',
    optional: '(optional)',
    details: 'Was uns weiterhilft',
    detailsHint: 'Zum Beispiel, welche Daten unrichtig sind oder wann und wo Sie bei uns behandelt oder betreut wurden. Bis zu 5.000 Zeichen.',
    someoneElseLegend: 'Anfrage für eine andere Person',
    someoneElse: 'Ich stelle die Anfrage für eine andere Person',
    someoneElseHint:
      'Zum Beispiel als Elternteil für ein Kind oder als Rechtsanwältin oder Rechtsanwalt für eine Mandantschaft. Wir können Sie um einen Nachweis bitten, dass Sie für diese Person handeln dürfen.',
    theirName: 'Name dieser Person',
    yourNameForThem: 'Ihr Name wird benötigt, wenn Sie die Anfrage für eine andere Person stellen.',
    relationship: 'Ihre Beziehung zu dieser Person',
    choose: 'Bitte wählen …',
    relationships: {
      parent: 'Elternteil',
      guardian: 'Vormund',
      carer: 'Pflegeperson',
      attorney: 'Bevollmächtigte Person (Vorsorgevollmacht)',
      solicitor: 'Rechtsanwältin oder Rechtsanwalt',
      insurer: 'Versicherung',
      other: 'Sonstige',
    },
    authority: 'Ihre Berechtigung, für diese Person zu handeln',
    authorityHint: 'Zum Beispiel das Sorgerecht, eine unterschriebene Vollmacht oder eine Vorsorgevollmacht.',
    send: 'Anfrage senden',
    back: 'Alle Rechte',
  },
  problems: {
    heading: 'Es gibt ein Problem',
    emailMissing: 'Geben Sie Ihre E-Mail-Adresse ein',
    emailInvalid: 'Geben Sie eine E-Mail-Adresse wie name@example.com ein',
    tooLong: (max) => `Verwenden Sie höchstens ${max.toLocaleString('de-DE')} Zeichen`,
    yourNameNeeded: 'Geben Sie Ihren Namen ein: Er wird benötigt, wenn Sie die Anfrage für eine andere Person stellen',
    theirNameMissing: 'Geben Sie den Namen der Person ein, für die Sie die Anfrage stellen',
    relationshipMissing: 'Wählen Sie Ihre Beziehung zu dieser Person',
    authorityMissing: 'Geben Sie an, was Sie berechtigt, für diese Person zu handeln',
    rateLimited:
      'Für diese E-Mail-Adresse warten bereits mehrere Anfragen auf Bestätigung. Bitte verwenden Sie den Link aus unserer E-Mail oder versuchen Sie es morgen erneut.',
  },
  sent: {
    title: 'Bitte prüfen Sie Ihre E-Mails',
    checkEmail: (days) =>
      `Wir haben Ihnen eine E-Mail mit einem Link gesendet. Öffnen Sie ihn und klicken Sie auf „Bestätigen“, um zu bestätigen, dass die Anfrage von Ihnen stammt. Der Link ist ${days} Tage gültig.`,
    deadline: (j, due) =>
      j === 'uk'
        ? `Wir haben einen Monat Zeit für unsere Antwort, gerechnet ab dem Tag Ihrer Bestätigung: Wenn Sie heute bestätigen, antworten wir bis zum ${due}.`
        : `Wir haben ab heute einen Monat Zeit für unsere Antwort: Wir antworten bis zum ${due}.`,
    extension:
      'Ist Ihre Anfrage komplex oder senden Sie uns mehrere, können wir bis zu zwei weitere Monate benötigen; dann teilen wir Ihnen die Gründe innerhalb des ersten Monats mit.',
    nothingYet: 'Ohne Ihre Bestätigung geschieht nichts. Wenn keine E-Mail ankommt, sehen Sie bitte in Ihrem Spam-Ordner nach.',
  },
  confirm: {
    title: 'Anfrage bestätigen',
    explain: 'Klicken Sie auf die Schaltfläche, um zu bestätigen, dass Sie diese Anfrage gestellt haben. Danach beginnen wir mit der Bearbeitung.',
    button: 'Bestätigen',
    doneTitle: 'Ihre Anfrage ist bestätigt',
    done: (due) => `Vielen Dank. Wir antworten bis zum ${due}.`,
    extension: 'Ist Ihre Anfrage komplex, können wir bis zu zwei weitere Monate benötigen; dann teilen wir Ihnen die Gründe noch vor Ablauf des Monats mit.',
    invalidTitle: 'Dieser Link funktioniert nicht',
    invalid: (days) =>
      `Der Link ist ungültig, wurde bereits verwendet oder ist abgelaufen (Links sind ${days} Tage gültig). Wenn Sie die Anfrage weiterhin stellen möchten, stellen Sie sie bitte erneut.`,
    startAgain: 'Anfrage stellen',
  },
  refused: {
    title: 'Dieses Formular konnte nicht gesendet werden',
    text: 'Das Formular wurde von einer anderen Website aus gesendet. Bitte öffnen Sie unsere Seite „Ihre Datenschutzrechte“ und senden Sie das Formular von dort.',
  },
};

export function centreStrings(lang: Language): CentreStrings {
  return lang === 'de' ? de : en;
}
