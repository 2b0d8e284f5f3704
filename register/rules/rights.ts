// Rights: people need at least one way to reach the controller.
import type { RuleContext } from './context.ts';

export function checkRights(ctx: RuleContext): void {
  const { r, error } = ctx;
  if (!r.rights.email && !r.rights.url && !r.rights.post && !r.controller.email && !r.controller.dpo?.email) {
    error(['rights'], 'people need a way to exercise their rights: give an email, URL or postal address under "rights:"');
  }
}
