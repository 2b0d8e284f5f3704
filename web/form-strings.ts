// Every fixed phrase of the hosted forms, in English and German (one shape: the type checker keeps them in step),
// and each problem a submission can have, worded with the register's label of the field: never a field's key.
import type { Language } from '../register/schema.ts';

type FileKind = 'pdf' | 'jpeg' | 'png' | 'webp' | 'heic' | 'docx' | 'odt';
type Params = Readonly<Record<string, string | number | readonly string[]>>;

interface FormStrings {
  readonly optional: string;
  readonly choose: string;
  readonly send: string;
  readonly problemHeading: string;
  readonly thanksTitle: string;
  readonly thanks: (title: string) => string;
  readonly readNotice: readonly [string, string, string];
  readonly uses: (controller: string, purposes: string) => string;
  readonly howWeUse: string;
  readonly rightsLink: string;
  readonly rights: string;
  readonly otherLanguage: string;
  /** The browser sends Global Privacy Control: what sending the form will record. */
  readonly gpcBefore: string;
  /** … and what it recorded. */
  readonly gpcHonoured: string;
  /** A mail went to the address given, to confirm email consent ticked on the form. */
  readonly confirmEmail: string;
  readonly fileHint: (kinds: readonly string[], megabytes: number) => string;
  readonly fileAgain: string;
  readonly kinds: Readonly<Record<FileKind, string>>;
  readonly or: string;
  /** A problem as one sentence; `label` is the field's label, `labels` turns other fields' names into theirs. */
  readonly problem: (code: string, label: string, params: Params, labels: (names: readonly string[]) => string[], fallback: string) => string;
}

const mb = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;
const list = (items: readonly string[], or: string) => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${or} ${items.at(-1)}`);
/** A long checkbox label by its first words. */
const short = (label: string) => (label.length <= 60 ? label.replace(/[.;:]$/, '') : `${label.slice(0, label.lastIndexOf(' ', 57))} …`);
const strings = (p: Params, key: string): readonly string[] => (Array.isArray(p[key]) ? (p[key] as readonly string[]) : []);

const en: FormStrings = {
  optional: '(optional)',
  choose: 'Choose…',
  send: 'Send',
  problemHeading: 'There is a problem',
  thanksTitle: 'Thank you',
  thanks: (title) => `We have received your form “${title}”.`,
  readNotice: ['Read ', 'how we use and protect your information', '.'],
  uses: (controller, purposes) => `${controller} uses what you give here to: ${purposes}.`,
  howWeUse: 'How we use your information',
  rightsLink: 'Your privacy rights',
  rights: ': ask for a copy of your data, or to correct or erase it.',
  otherLanguage: 'Deutsch',
  gpcBefore:
    'Your browser sends a Global Privacy Control signal, and we honour it: when you send this form, we record it as your objection to marketing and profiling, and as your refusal of anything you do not tick. What you tick stays your choice.',
  gpcHonoured:
    'Your browser sent a Global Privacy Control signal, and we honoured it: we recorded your objection to marketing and profiling, and your refusal of anything you did not tick. What you ticked stays your choice.',
  confirmEmail:
    'We have sent you an email to confirm that we may email you. Until you press Confirm in it, we send you no such email; if you do not, your tick lapses.',
  fileHint: (kinds, megabytes) => `${list(kinds, 'or')}; at most ${megabytes} MB.`,
  fileAgain: 'Choose the file again: a file is not kept when the form has a problem.',
  kinds: { pdf: 'PDF', jpeg: 'JPEG', png: 'PNG', webp: 'WebP', heic: 'HEIC', docx: 'Word (.docx)', odt: 'OpenDocument (.odt)' },
  or: 'or',
  problem(code, label, p, labels, fallback) {
    const kinds = strings(p, 'accept').map((k) => en.kinds[k as FileKind] ?? k);
    switch (code) {
      case 'required':
        return `${label} is required`;
      case 'one-of':
        return `Give ${label} or ${list(labels(strings(p, 'others')), 'or')}`;
      case 'too-long':
        return `${label} is longer than ${p.max} characters`;
      case 'email':
        return `${label} is not an email address`;
      case 'phone':
        return `${label} is not a phone number`;
      case 'phone-country':
        return `${label} is not a phone number: write it with the country code, e.g. +44`;
      case 'date':
        return `${label} must be a date written YYYY-MM-DD`;
      case 'date-real':
        return `${label} is not a real date`;
      case 'number':
        return `${label} must be a number`;
      case 'yes-no':
        return `${label} must be yes or no`;
      case 'choice':
        return `Choose one of the options for ${label}`;
      case 'postcode':
        return `${label} is not a postcode`;
      case 'url':
        return `${label} is not a web address`;
      case 'blank':
      case 'text':
        return `${label} must not be blank`;
      case 'control':
      case 'not-text':
        return `${label} contains characters that cannot be stored`;
      case 'reference':
      case 'gdc-number':
        return `${label} is not a valid number`;
      case 'single-value':
        return `${label} takes one value`;
      case 'unknown-field':
        return `${label} is not a field of this form`;
      case 'file-expected':
        return `Choose a file for ${label}`;
      case 'file-empty':
        return `The file for ${label} is empty`;
      case 'file-too-big':
        return `The file for ${label} is larger than ${mb(Number(p.max))} MB`;
      case 'file-type':
        return `The file for ${label} must be ${list(kinds, 'or')} (we check what the file is, not its name)`;
      case 'consent-needed': {
        const fields = labels(strings(p, 'fields'));
        const what = fields.length <= 2 ? list(fields, 'and') : 'what you enter';
        return `To send this form, tick “${short(label)}”: we use ${what} only with your consent`;
      }
      default:
        return `${label} ${fallback}`;
    }
  },
};

const de: FormStrings = {
  optional: '(freiwillig)',
  choose: 'Bitte wählen …',
  send: 'Senden',
  problemHeading: 'Bitte prüfen Sie Ihre Angaben',
  thanksTitle: 'Vielen Dank',
  thanks: (title) => `Wir haben Ihr Formular „${title}“ erhalten.`,
  readNotice: ['Lesen Sie, ', 'wie wir Ihre Daten verwenden und schützen', '.'],
  uses: (controller, purposes) => `${controller} verwendet Ihre Angaben in diesem Formular für: ${purposes}.`,
  howWeUse: 'Wie wir Ihre Daten verwenden',
  rightsLink: 'Ihre Datenschutzrechte',
  rights: ': Sie können eine Kopie Ihrer Daten verlangen oder Ihre Daten berichtigen oder löschen lassen.',
  otherLanguage: 'English',
  gpcBefore:
    'Ihr Browser sendet das Signal „Global Privacy Control“, und wir beachten es: Wenn Sie dieses Formular senden, halten wir es als Ihren Widerspruch gegen Werbung und Profilbildung fest und als Ablehnung von allem, was Sie nicht ankreuzen. Was Sie ankreuzen, bleibt Ihre Entscheidung.',
  gpcHonoured:
    'Ihr Browser hat das Signal „Global Privacy Control“ gesendet, und wir haben es beachtet: Wir haben Ihren Widerspruch gegen Werbung und Profilbildung festgehalten und alles, was Sie nicht angekreuzt haben, als abgelehnt. Was Sie angekreuzt haben, bleibt Ihre Entscheidung.',
  confirmEmail:
    'Wir haben Ihnen eine E-Mail geschickt, mit der Sie bestätigen, dass wir Ihnen E-Mails senden dürfen. Solange Sie darin nicht „Bestätigen“ drücken, senden wir Ihnen keine solchen E-Mails; tun Sie es nicht, verfällt Ihr Häkchen.',
  fileHint: (kinds, megabytes) => `${list(kinds, 'oder')}; höchstens ${String(megabytes).replace('.', ',')} MB.`,
  fileAgain: 'Bitte wählen Sie die Datei erneut aus: Wenn das Formular einen Fehler hat, wird keine Datei aufbewahrt.',
  kinds: { pdf: 'PDF', jpeg: 'JPEG', png: 'PNG', webp: 'WebP', heic: 'HEIC', docx: 'Word (.docx)', odt: 'OpenDocument (.odt)' },
  or: 'oder',
  problem(code, label, p, labels, fallback) {
    const kinds = strings(p, 'accept').map((k) => de.kinds[k as FileKind] ?? k);
    const quoted = (names: readonly string[]) => labels(names).map((l) => `„${l}“`);
    switch (code) {
      case 'required':
      case 'blank':
      case 'text':
        return `Bitte füllen Sie „${label}“ aus.`;
      case 'one-of':
        return `Bitte füllen Sie „${label}“ oder ${list(quoted(strings(p, 'others')), 'oder')} aus.`;
      case 'too-long':
        return `„${label}“ ist länger als ${p.max} Zeichen.`;
      case 'email':
        return `„${label}“ ist keine gültige E-Mail-Adresse.`;
      case 'phone':
        return `„${label}“ ist keine gültige Telefonnummer.`;
      case 'phone-country':
        return `„${label}“ ist keine gültige Telefonnummer: Bitte geben Sie sie mit Ländervorwahl an, z. B. +49.`;
      case 'date':
        return `„${label}“ muss ein Datum im Format JJJJ-MM-TT sein.`;
      case 'date-real':
        return `„${label}“ ist kein gültiges Datum.`;
      case 'number':
        return `„${label}“ muss eine Zahl sein.`;
      case 'yes-no':
        return `„${label}“ muss Ja oder Nein sein.`;
      case 'choice':
        return `Bitte wählen Sie bei „${label}“ eine der Möglichkeiten aus.`;
      case 'postcode':
        return `„${label}“ ist keine gültige Postleitzahl.`;
      case 'url':
        return `„${label}“ ist keine gültige Webadresse.`;
      case 'control':
      case 'not-text':
        return `„${label}“ enthält Zeichen, die wir nicht speichern können.`;
      case 'reference':
      case 'gdc-number':
        return `„${label}“ ist keine gültige Nummer.`;
      case 'single-value':
        return `„${label}“ darf nur einen Wert enthalten.`;
      case 'unknown-field':
        return `„${label}“ gehört nicht zu diesem Formular.`;
      case 'file-expected':
        return `Bitte wählen Sie für „${label}“ eine Datei aus.`;
      case 'file-empty':
        return `Die Datei für „${label}“ ist leer.`;
      case 'file-too-big':
        return `Die Datei für „${label}“ ist größer als ${String(mb(Number(p.max))).replace('.', ',')} MB.`;
      case 'file-type':
        return `Die Datei für „${label}“ muss eine ${list(kinds, 'oder')}-Datei sein (wir prüfen den Inhalt der Datei, nicht ihren Namen).`;
      case 'consent-needed': {
        const fields = quoted(strings(p, 'fields'));
        const what = fields.length <= 2 ? `${list(fields, 'und')}` : 'Ihre Angaben';
        return `Um das Formular zu senden, setzen Sie bitte ein Häkchen bei „${short(label)}“: Wir verwenden ${what} nur mit Ihrer Einwilligung.`;
      }
      default:
        return `„${label}“: ${fallback}`;
    }
  },
};

export function formStrings(lang: Language): FormStrings {
  return lang === 'de' ? de : en;
}
