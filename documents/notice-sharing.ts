// Notice sections about where information goes and how long it stays: recipients, transfers abroad,
// retention, cookies, marketing and automated decisions.
import { FIRST_PARTY, STRICTLY_NECESSARY } from '../register/vocabulary.ts';
import { p, type Block, type Rich, type Section } from './document-model.ts';
import { countryName, isTransferAbroad, joinAlternatives, upperFirst } from './describe-terms.ts';
import { describeDuration } from './describe-duration.ts';
import { controllerCategories, purposeEntries, titlesOf, type NoticeContext } from './notice-context.ts';
import { phraseRetention } from './phrase-retention.ts';

/** Recipients the notice's readers are concerned with, each with the purposes (and cookies) it serves. */
function recipientsInUse(ctx: NoticeContext): { key: string; purposes: string[] }[] {
  return Object.keys(ctx.r.recipients).flatMap((key) => {
    const purposes = purposeEntries(ctx)
      .filter(([, x]) => x.recipients.includes(key))
      .map(([k]) => k);
    for (const cookie of Object.values(ctx.r.cookies)) {
      if (cookie.provider === key && cookie.purpose in ctx.r.purposes && !purposes.includes(cookie.purpose)) purposes.push(cookie.purpose);
    }
    return purposes.length > 0 ? [{ key, purposes }] : [];
  });
}

/** The categories a recipient receives: what the register says it receives, or every category of its purposes. */
function receivedBy(ctx: NoticeContext, key: string, purposes: readonly string[]): string[] {
  const declared = ctx.r.recipients[key]?.receives;
  if (declared) return [...declared];
  return [...new Set(purposes.flatMap((k) => ctx.r.purposes[k]?.data ?? []))];
}

export function recipientsSection(ctx: NoticeContext): Section {
  const s = ctx.s.recipients;
  const used = recipientsInUse(ctx);
  const rows = used.map(({ key, purposes }): Rich[] => {
    const rec = ctx.r.recipients[key]!;
    return [
      [ctx.t(rec.title)],
      [ctx.s.role[rec.role]],
      [rec.names.join(', ')],
      [countryName(rec.country, ctx.lang)],
      [ctx.items(titlesOf(ctx, ctx.r.data, receivedBy(ctx, key, purposes)))],
      [ctx.items(titlesOf(ctx, ctx.r.purposes, purposes))],
    ];
  });
  const blocks: Block[] = rows.length ? [p(s.intro), { kind: 'table', caption: s.caption, head: s.head, rowHeaders: true, rows }] : [p(s.none)];
  const statements = ctx.r.notice.statements;
  if (statements.includes('no-sale')) blocks.push(p(s.noSale));
  if (statements.includes('no-marketing-sharing')) blocks.push(p(s.noMarketingSharing));
  return { id: 'recipients', heading: ctx.s.heading.recipients, blocks };
}

export function transfersSection(ctx: NoticeContext): Section {
  const s = ctx.s.transfers;
  const jurisdiction = ctx.r.controller.jurisdiction;
  const rows = recipientsInUse(ctx).flatMap(({ key }): Rich[][] => {
    const rec = ctx.r.recipients[key]!;
    if (!isTransferAbroad(jurisdiction, rec.country)) return [];
    const safeguard = rec.transfer?.safeguard ?? 'adequacy';
    const note = rec.transfer?.note ? ` ${ctx.t(rec.transfer.note)}` : '';
    const copy = rec.transfer?.copy ? ctx.t(rec.transfer.copy) : safeguard === 'adequacy' ? s.copyPublic[jurisdiction] : s.copyDefault;
    return [[[ctx.t(rec.title)], [countryName(rec.country, ctx.lang)], [`${upperFirst(ctx.s.safeguard[safeguard])}.${note}`], [copy]]];
  });
  const blocks: Block[] = rows.length
    ? [p(s.intro[jurisdiction]), { kind: 'table', caption: s.caption[jurisdiction], head: s.head, rowHeaders: true, rows }]
    : [p(s.none[jurisdiction])];
  return { id: 'transfers', heading: s.heading[jurisdiction], blocks };
}

export function retentionSection(ctx: NoticeContext): Section {
  const s = ctx.s.keep;
  const rows = purposeEntries(ctx).map(([, purpose]): Rich[] => [
    [ctx.t(purpose.title)],
    [upperFirst(phraseRetention(ctx.r, purpose.retention, ctx.lang))],
    [purpose.retention.law ? ctx.t(purpose.retention.law) : ''],
  ]);
  return {
    id: 'retention',
    heading: ctx.s.heading.retention,
    blocks: [p(s.intro), { kind: 'table', caption: s.caption, head: s.head, rowHeaders: true, rows }],
  };
}

export function securitySection(ctx: NoticeContext): Section {
  const s = ctx.s.security;
  const blocks: Block[] = [p(s.intro), { kind: 'list', items: ctx.r.security.map((m): Rich => [ctx.t(m)]) }];
  // What Custodian itself does with the categories it seals (subjects/collect seals them; audit/ records reads).
  const sealed = controllerCategories(ctx).filter((k) => ctx.r.data[k]!.special || ctx.r.data[k]!.encrypt);
  if (sealed.length > 0) blocks.push(p(s.sealed(ctx.items(titlesOf(ctx, ctx.r.data, sealed)))));
  return { id: 'security', heading: ctx.s.heading.security, blocks };
}

export function cookiesSection(ctx: NoticeContext): Section {
  const s = ctx.s.cookies;
  const cookies = Object.values(ctx.r.cookies);
  if (cookies.length === 0) return { id: 'cookies', heading: ctx.s.heading.cookies, blocks: [p(s.none)] };
  const rows = cookies.map((c): Rich[] => {
    const purpose = c.purpose === STRICTLY_NECESSARY ? s.strictlyNecessary : ctx.t(ctx.r.purposes[c.purpose]?.title ?? c.purpose);
    const provider = c.provider === FIRST_PARTY ? s.us : ctx.t(ctx.r.recipients[c.provider]?.title ?? c.provider);
    const consent = c.purpose === STRICTLY_NECESSARY ? ctx.s.no : c.exemption ? s.exempt[c.exemption] : ctx.s.yes;
    return [
      [c.names.join(', ')],
      [c.description ? `${purpose}: ${ctx.t(c.description)}` : purpose],
      [provider],
      [c.lasts === 'session' ? s.session : describeDuration(c.lasts, ctx.lang)],
      [consent],
    ];
  });
  const blocks: Block[] = [p(s.intro)];
  if (cookies.some((c) => c.exemption)) blocks.push(p(s.exemptIntro));
  blocks.push({ kind: 'table', caption: s.caption, head: s.head, rowHeaders: true, rows });
  // Promises about choices appear only where consent is asked and the running system keeps them.
  const needConsent = cookies.some((c) => c.purpose !== STRICTLY_NECESSARY && !c.exemption);
  if (needConsent && ctx.promises('cookie-settings')) blocks.push(p(s.settings));
  if (needConsent && ctx.promises('global-privacy-control')) blocks.push(p(s.gpc));
  blocks.push(p(s.browser));
  return { id: 'cookies', heading: ctx.s.heading.cookies, blocks };
}

export function marketingSection(ctx: NoticeContext): Section | undefined {
  const marketing = purposeEntries(ctx).filter(([, x]) => x.channels && Object.keys(x.channels).length > 0);
  if (marketing.length === 0) return undefined;
  const s = ctx.s;
  const blocks: Block[] = [p(s.marketing.intro)];
  for (const [key, purpose] of marketing) {
    // A soft opt-in is said with the forms its sales come from: the only details it is used with (register/soft-opt-in.ts).
    const sales = (purpose['soft-opt-in'] ?? []).flatMap((x) => (ctx.r.collection[x.point] ? [s.quote(ctx.t(ctx.r.collection[x.point]!.title))] : []));
    const items = Object.entries(purpose.channels ?? {}).map(([channel, rule]): Rich => {
      const through = rule === 'soft-opt-in' && sales.length > 0 ? `${s.softOptInThrough(joinAlternatives(sales, ctx.lang))}, ` : '';
      return [`${s.marketingChannel[channel as keyof typeof s.marketingChannel]}: ${through}${s.marketingRule[rule]}`];
    });
    blocks.push({ kind: 'h3', text: ctx.t(purpose.title), id: `marketing-${key}` }, { kind: 'list', items });
  }
  const suppressed = marketing.every(([, x]) => x.retention.then === 'suppress');
  blocks.push(p(suppressed ? `${s.marketing.stop} ${s.marketing.note}` : s.marketing.stop));
  return { id: 'marketing', heading: s.heading.marketing, blocks };
}

export function automatedSection(ctx: NoticeContext): Section | undefined {
  const automated = purposeEntries(ctx).filter(([, x]) => x.automated);
  if (automated.length === 0) return undefined;
  const s = ctx.s.automated;
  const blocks: Block[] = [p(s.intro)];
  for (const [key, purpose] of automated) {
    blocks.push(
      { kind: 'h3', text: ctx.t(purpose.title), id: `automated-${key}` },
      {
        kind: 'dl',
        items: [
          { term: s.logic, detail: [ctx.t(purpose.automated!.logic)] },
          { term: s.significance, detail: [ctx.t(purpose.automated!.significance)] },
        ],
      },
    );
  }
  blocks.push(p(s.rights));
  return { id: 'automated-decisions', heading: ctx.s.heading['automated-decisions'], blocks };
}
