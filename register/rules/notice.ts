// What the notice promises and states: a promise needs machinery this installation has; a statement must be
// true of the register.
import { CAPABILITY_PROMISE, type Capabilities } from '../capabilities.ts';
import type { RuleContext } from './context.ts';

export function checkNotice(ctx: RuleContext, capabilities: Capabilities): void {
  const { r, warn, error } = ctx;
  r.notice.promises.forEach((promise, i) => {
    if (!capabilities[promise]) {
      warn(
        ['notice', 'promises', i],
        `this installation cannot yet keep ${CAPABILITY_PROMISE[promise]}, so the notice leaves that sentence out until it can (register/capabilities.ts)`,
      );
    }
  });
  if (r.notice.promises.includes('complaint-handling') && r.controller.jurisdiction !== 'uk') {
    warn(
      ['notice', 'promises', r.notice.promises.indexOf('complaint-handling')],
      'the 30-day complaint acknowledgement is a UK duty (DPA 2018 s.164A); EU notices do not state it',
    );
  }
  if (r.controller['eu-complaints'] && r.controller.jurisdiction === 'eu') {
    warn(['controller', 'eu-complaints'], 'an EU notice always names the complaint routes in the member states: "eu-complaints" is for UK controllers');
  }
  if (r.notice.statements.includes('no-marketing-sharing')) {
    // "Not shared for marketing": no marketing purpose may hand data to someone who uses it for themselves.
    for (const [pk, p] of Object.entries(r.purposes)) {
      if (!p.channels || Object.keys(p.channels).length === 0) continue;
      p.recipients.forEach((rk, i) => {
        const role = r.recipients[rk]?.role;
        if (role === 'controller' || role === 'joint-controller') {
          error(
            ['purposes', pk, 'recipients', i],
            `the notice states "no-marketing-sharing", but this marketing purpose gives data to "${rk}", which uses it as a ${role}`,
          );
        }
      });
    }
  }
}
