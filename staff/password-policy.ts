// What a new staff password must be (OWASP ASVS 2.1): long enough, not absurdly long, not a well-known password,
// not built from the account's email, and not easy to guess as a strength estimator sees it (zxcvbn-ts with its
// common and English dictionaries: `Password123!` is long enough and still guessed at once). No composition rules.
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;

// The 12+ character entries of the most common leaked-password lists, plus phrases an imaging practice might reach for.
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456123456',
  '111111111111',
  '000000000000',
  '123123123123',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'qwertyuiop12',
  'qwertyuiopasdfgh',
  'qwerty123456',
  'qwertyqwerty',
  'asdfghjkl123',
  'password1234',
  'password12345',
  'password123456',
  'password!234',
  'passw0rd1234',
  'p@ssw0rd1234',
  'p@ssword1234',
  'passwordpassword',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'welcome123456',
  'changeme1234',
  'changeme123!',
  'administrator',
  'administrator1',
  'admin1234567',
  'adminadmin123',
  'trustno1trustno1',
  'sunshine1234',
  'football1234',
  'baseball1234',
  'princess1234',
  'superman1234',
  'starwars1234',
  'monkey123456',
  'dragon123456',
  'abcdefghijkl',
  'abcd12345678',
  'abc123abc123',
  'aaaaaaaaaaaa',
  'zaq12wsxcde3',
  'zxcvbnm12345',
  'correcthorsebatterystaple',
  'custodian1234',
  'custodian123!',
  'radiology1234',
  'imaging12345',
  'dental123456',
  'xray12345678',
  'patient12345',
  'spring2025!!',
  'summer2025!!',
  'autumn2025!!',
  'winter2025!!',
  'january2025!',
  'password2024',
  'password2025',
  'password2026',
]);

export type PasswordProblem = 'too_short' | 'too_long' | 'too_common' | 'contains_email' | 'too_guessable' | 'unchanged';

/** zxcvbn's score (0 to 4) a password must reach: 4, "very unguessable", holds against an offline attack on a stolen hash. */
const MIN_SCORE = 4;

export const PASSWORD_PROBLEM_TEXT: Record<PasswordProblem, string> = {
  too_short: `Use at least ${MIN_PASSWORD_LENGTH} characters; a few unrelated words work well.`,
  too_long: `Use at most ${MAX_PASSWORD_LENGTH} characters.`,
  too_common: 'This password is on lists of common passwords; choose another.',
  contains_email: 'Do not use your email address or its name part in the password.',
  too_guessable: 'This password is easy to guess (a common word or pattern with small changes); a few unrelated words are stronger.',
  unchanged: 'Choose a password different from the current one.',
};

/** The first problem with a proposed password, or undefined when it is acceptable. */
export async function checkPassword(password: string, email: string): Promise<PasswordProblem | undefined> {
  const basic = checkPasswordBasics(password, email);
  if (basic) return basic;
  const estimate = (await estimator()).check(password, [email, email.split('@')[0] ?? '', 'custodian']);
  return estimate.score < MIN_SCORE ? 'too_guessable' : undefined;
}

// The dictionaries take a third of a second to load: on the first check, not at every start.
let loaded: Promise<{ check(password: string, userInputs: string[]): { score: number } }> | undefined;
function estimator() {
  loaded ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(
    ([core, common, en]) =>
      new core.default.ZxcvbnFactory({
        dictionary: { ...common.default.dictionary, ...en.default.dictionary },
        graphs: common.default.adjacencyGraphs,
        translations: en.default.translations,
      }),
  );
  return loaded;
}

/** Length, the blocklist and the email: what is checked without the estimator (enough for generated passwords). */
export function checkPasswordBasics(password: string, email: string): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too_short';
  if (length > MAX_PASSWORD_LENGTH) return 'too_long';
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || isOneRepeatedUnit(lower)) return 'too_common';
  const address = email.trim().toLowerCase();
  const local = address.split('@')[0] ?? '';
  if (lower.includes(address) || (local.length >= 3 && lower.includes(local))) return 'contains_email';
  return undefined;
}

/** "abcabcabcabc", "xxxxxxxxxxxx": a short unit repeated. */
function isOneRepeatedUnit(text: string): boolean {
  for (let unit = 1; unit <= 4; unit++) {
    if (text.length % unit === 0 && text.slice(0, unit).repeat(text.length / unit) === text) return true;
  }
  return false;
}
