// The rules that relate parts of a register to one another (REGISTER.md). The schema has already checked
// shapes and types; here every reference must resolve and every promise must be lawful as declared.
// Each section's rules live in rules/; the order below is the order problems are reported in.
import { INSTALLED, type Capabilities } from './capabilities.ts';
import type { RegisterData } from './schema.ts';
import { checkCollection } from './rules/collection.ts';
import { createContext, type RuleProblem } from './rules/context.ts';
import { checkCookies } from './rules/cookies.ts';
import { checkNotice } from './rules/notice.ts';
import { checkProcessing } from './rules/processing.ts';
import { checkPurposes } from './rules/purposes.ts';
import { checkRecipients } from './rules/recipients.ts';
import { checkRights } from './rules/rights.ts';
import { checkService } from './rules/service.ts';
import { checkSoftOptIn } from './rules/soft-opt-in.ts';

export type { RuleProblem };

/** Every rule problem; promises are held against this installation's capabilities unless others are given. */
export function checkRules(r: RegisterData, capabilities: Capabilities = INSTALLED): RuleProblem[] {
  const ctx = createContext(r);
  checkPurposes(ctx);
  checkRecipients(ctx);
  checkCookies(ctx, capabilities);
  checkCollection(ctx);
  checkSoftOptIn(ctx);
  checkProcessing(ctx);
  checkService(ctx);
  checkRights(ctx);
  checkNotice(ctx, capabilities);

  // Declared but unused: probably a mistake, never fatal.
  const { keys, used, warn } = ctx;
  const unused = (section: string, declared: string[], usedSet: Set<string>) => {
    for (const k of declared) if (!usedSet.has(k)) warn([section, k], `"${k}" is declared but nothing uses it`, 'key');
  };
  unused('subjects', keys.subjects, used.subjects);
  unused('data', keys.data, used.data);
  unused('recipients', keys.recipients, used.recipients);
  unused('sources', keys.sources, used.sources);
  unused('events', Object.keys(r.events), used.events);
  return ctx.out;
}
