// Service settings that lean on other sections: the access log's retention, the visitor-session cookie.
import { DURATION_PATTERN } from '../../core/duration.ts';
import { FIRST_PARTY, STRICTLY_NECESSARY } from '../vocabulary.ts';
import type { RuleContext } from './context.ts';

export function checkService(ctx: RuleContext): void {
  const { r, error, ref, keys } = ctx;
  const accessLog = r.service['access-log'];
  if (accessLog) {
    const purpose = r.purposes[accessLog.purpose];
    if (!purpose) ref(['service', 'access-log', 'purpose'], accessLog.purpose, keys.purposes, 'purpose');
    else if (!DURATION_PATTERN.test(purpose.retention.keep)) {
      error(
        ['service', 'access-log', 'purpose'],
        `the access log needs a fixed retention period, but "${accessLog.purpose}" keeps data ${purpose.retention.keep}`,
      );
    }
  }
  const newsletter = r.service.newsletter;
  if (newsletter) {
    const point = r.collection[newsletter.point];
    const at = ['service', 'newsletter', 'point'];
    if (!point) ref(at, newsletter.point, Object.keys(r.collection), 'collection point');
    else {
      const fields = Object.values(point.fields);
      if (!fields.some((f) => f.type === 'email')) error(at, `the newsletter's sign-up point "${newsletter.point}" has no email field`);
      const consent = fields.find((f) => f.consent && f.channel === 'email');
      if (!consent) error(at, `the newsletter's sign-up point "${newsletter.point}" has no consent box for email (consent: <purpose>, channel: email)`);
    }
  }
  const visitor = r.service['visitor-session'];
  if (visitor) {
    const cookie = r.cookies[visitor.cookie];
    if (!cookie) ref(['service', 'visitor-session', 'cookie'], visitor.cookie, Object.keys(r.cookies), 'cookie');
    else if (cookie.purpose !== STRICTLY_NECESSARY || cookie.provider !== FIRST_PARTY) {
      error(
        ['service', 'visitor-session', 'cookie'],
        `the visitor-session cookie must be a first-party, strictly necessary cookie; "${visitor.cookie}" is not`,
      );
    }
  }
}
