// Rights: people need at least one way to reach the controller, and a request's deadline needs a calendar.
import type { RuleContext } from './context.ts';

export function checkRights(ctx: RuleContext): void {
  const { r, error } = ctx;
  if (!r.rights.email && !r.rights.url && !r.rights.post && !r.controller.email && !r.controller.dpo?.email) {
    error(['rights'], 'people need a way to exercise their rights: give an email, URL or postal address under "rights:"');
  }
  if (r.controller.jurisdiction === 'eu' && !r.controller.country && !r.rights.holidays) {
    error(['controller', 'country'], 'an EU controller needs its country (or rights.holidays): its public holidays move rights-request deadlines');
  }
}
