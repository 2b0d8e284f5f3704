// The first three sections of the notice: who we are, what we collect (Arts. 13-14), why and on what basis.
import { SOURCE_SUBJECT } from '../register/vocabulary.ts';
import { paragraphs, p, type Block, type Inline, type Rich, type Section } from './document-model.ts';
import { basisArticle, conditionArticle, countryName, registrationsOf, upperFirst } from './describe-terms.ts';
import { describeDuration } from './describe-duration.ts';
import { contactLines, controllerCategories, purposeEntries, rightsContactInline, titlesOf, type NoticeContext } from './notice-context.ts';
import { phraseRetention } from './phrase-retention.ts';

export function whoWeAre(ctx: NoticeContext): Section {
  const { controller } = ctx.r;
  const s = ctx.s.who;
  const blocks: Block[] = [
    p(s.controller(controller.name)),
    {
      kind: 'address',
      lines: [
        [controller.name],
        ...contactLines(ctx, { address: controller.address, email: controller.email, phone: controller.phone, url: controller.website }),
      ],
    },
  ];
  for (const reg of registrationsOf(controller)) blocks.push(p(s.registration(reg.authority, reg.number)));
  if (controller.responsible.length > 0) {
    const people = controller.responsible.map((x) => (x.role ? `${x.name} (${ctx.t(x.role)})` : x.name));
    blocks.push(p(`${s.responsible}: ${ctx.list(people)}`));
  }
  if (controller.roles.includes('processor')) blocks.push(p(s.processor));
  if (ctx.r.notice.statements.includes('gdpr-principles'))
    blocks.push(p(s.principles), { kind: 'list', items: s.principleList.map((x): Rich => [x]) }, p(s.accountability));
  for (const [who, heading, text] of [
    [controller.dpo, s.dpo, s.dpoText],
    [controller.representative, s.representative, s.representativeText],
  ] as const) {
    if (!who) continue;
    const lines: Rich[] = [[ctx.t(who.title)]];
    if (who.name) lines.push([who.name]);
    blocks.push({ kind: 'h3', text: heading }, p(text), { kind: 'address', lines: [...lines, ...contactLines(ctx, who)] });
  }
  return { id: 'who-we-are', heading: ctx.s.heading['who-we-are'], blocks };
}

/** "patient.dob" → "Patient dob": used only when a field has no label. */
function humanise(name: string): string {
  const words = name.replace(/[._-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fieldLabel(ctx: NoticeContext, point: NoticeContext['r']['collection'][string], name: string): string {
  const label = point.fields[name]?.label;
  return label ? ctx.t(label) : humanise(name);
}

/**
 * Whom a category is about: the subject kind of each field that collects it (the field's own `about`, else its
 * point's subject), and the category's declared `about`. Only a category nothing says this of falls back to the
 * subject kinds of the purposes using it.
 */
function aboutWhom(ctx: NoticeContext, key: string): string[] {
  const subjects = new Set<string>(ctx.r.data[key]?.about ?? []);
  for (const point of Object.values(ctx.r.collection))
    for (const field of Object.values(point.fields)) if (field.data === key) subjects.add(field.about ?? point.subject);
  if (subjects.size === 0)
    for (const [, purpose] of purposeEntries(ctx))
      if (purpose.data.includes(key))
        purpose.subjects.forEach((x) => {
          subjects.add(x);
        });
  return [...subjects];
}

function sourceTitle(ctx: NoticeContext, key: string): string {
  const subject = ctx.r.subjects[key];
  if (subject) return ctx.t(subject.title);
  const source = ctx.r.sources[key];
  if (!source) return key;
  return source.country ? `${ctx.t(source.title)} (${countryName(source.country, ctx.lang)})` : ctx.t(source.title);
}

export function whatWeCollect(ctx: NoticeContext): Section {
  const s = ctx.s.collect;
  const { r } = ctx;
  const blocks: Block[] = [p(s.intro)];

  for (const [key, point] of Object.entries(r.collection)) {
    const title = ctx.t(point.title);
    blocks.push(
      { kind: 'h3', text: title, id: `collect-${key}` },
      {
        kind: 'dl',
        items: [
          { term: s.from, detail: [point.source === SOURCE_SUBJECT ? s.you : s.other(sourceTitle(ctx, point.source))] },
          { term: s.how, detail: [ctx.s.channel[point.channel]] },
          { term: s.usedFor, detail: [ctx.items(titlesOf(ctx, r.purposes, point.purposes))] },
        ],
      },
      {
        kind: 'table',
        caption: title,
        head: s.head,
        rowHeaders: true,
        rows: Object.entries(point.fields).map(([name, field]) => {
          const others = point['one-of'].filter((group) => group.includes(name)).flatMap((group) => group.filter((x) => x !== name));
          const required = field.required ? s.required : others.length ? s.oneOf(ctx.list(others.map((x) => fieldLabel(ctx, point, x)))) : s.optional;
          return [[fieldLabel(ctx, point, name)], [r.data[field.data] ? ctx.t(r.data[field.data]!.title) : field.data], [required]];
        }),
      },
    );
  }

  // Art. 14: what comes from elsewhere than the person, and from where.
  const sources = Object.entries(r.sources);
  if (sources.length > 0) {
    const rows = sources.map(([key, source]): Rich[] => {
      const categories = new Set<string>();
      for (const [, purpose] of purposeEntries(ctx))
        if (purpose.sources.includes(key))
          purpose.data.forEach((d) => {
            categories.add(d);
          });
      for (const point of Object.values(r.collection))
        if (point.source === key)
          Object.values(point.fields).forEach((f) => {
            categories.add(f.data);
          });
      return [[sourceTitle(ctx, key)], [ctx.items(titlesOf(ctx, r.data, [...categories]))], [source.public ? ctx.s.yes : ctx.s.no]];
    });
    blocks.push({ kind: 'h3', text: s.sourcesHeading, id: 'other-sources' }, p(s.sourcesIntro), {
      kind: 'table',
      caption: s.sourcesCaption,
      head: s.sourcesHead,
      rowHeaders: true,
      rows,
    });
  }

  const categoryRows = controllerCategories(ctx).map((key): Rich[] => {
    const category = r.data[key]!;
    const title = ctx.t(category.title);
    return [
      [category.description ? `${title}: ${ctx.t(category.description)}` : title],
      [ctx.items(titlesOf(ctx, r.subjects, aboutWhom(ctx, key)))],
      [category.special ? `${ctx.s.yes}: ${ctx.s.special[category.special]}` : ctx.s.no],
    ];
  });
  blocks.push(
    { kind: 'h3', text: s.categoriesHeading, id: 'categories' },
    {
      kind: 'table',
      caption: s.categoriesCaption,
      head: s.categoriesHead,
      rowHeaders: true,
      rows: categoryRows,
    },
  );
  return { id: 'what-we-collect', heading: ctx.s.heading['what-we-collect'], blocks };
}

export function whyAndBasis(ctx: NoticeContext): Section {
  const s = ctx.s.why;
  const { r } = ctx;
  const jurisdiction = r.controller.jurisdiction;
  const blocks: Block[] = [p(s.intro)];
  for (const [key, purpose] of purposeEntries(ctx)) {
    blocks.push({ kind: 'h3', text: ctx.t(purpose.title), id: `purpose-${key}` });
    if (purpose.description) blocks.push(...paragraphs(ctx.t(purpose.description)));
    const items: { term: string; detail: Rich }[] = [
      { term: s.basis, detail: [`${ctx.s.basis[purpose.basis]} (${basisArticle(purpose.basis, jurisdiction, ctx.lang)}).`] },
    ];
    if (purpose.interest) items.push({ term: s.interest, detail: [ctx.t(purpose.interest)] });
    if (purpose.law) items.push({ term: s.law, detail: [ctx.t(purpose.law)] });
    const special = [...new Set(purpose.data.flatMap((d) => (r.data[d]?.special ? [r.data[d].special] : [])))];
    if (special.length > 0 && purpose.condition) {
      const kinds = ctx.list(special.map((k) => ctx.s.special[k]));
      items.push({
        term: s.special,
        detail: [s.specialText(kinds, ctx.s.condition[purpose.condition], conditionArticle(purpose.condition, jurisdiction, ctx.lang))],
      });
    }
    items.push(
      { term: s.data, detail: [ctx.items(titlesOf(ctx, r.data, purpose.data))] },
      { term: s.subjects, detail: [ctx.items(titlesOf(ctx, r.subjects, purpose.subjects))] },
    );
    if (purpose.sources.length > 0) items.push({ term: s.sources, detail: [ctx.items(titlesOf(ctx, r.sources, purpose.sources))] });
    if (purpose.recipients.length > 0) items.push({ term: s.recipients, detail: [ctx.items(titlesOf(ctx, r.recipients, purpose.recipients))] });
    const optional = optionalText(ctx, purpose);
    if (optional) items.push({ term: s.optional, detail: optional });
    if (purpose['consent-lasts']) items.push({ term: s.consentLasts, detail: [s.consentLastsText(describeDuration(purpose['consent-lasts'], ctx.lang))] });
    items.push({ term: s.retention, detail: [`${upperFirst(phraseRetention(r, purpose.retention, ctx.lang))}.`] });
    blocks.push({ kind: 'dl', items });
  }
  return { id: 'why-and-basis', heading: ctx.s.heading['why-and-basis'], blocks };
}

function optionalText(ctx: NoticeContext, purpose: NoticeContext['r']['purposes'][string]): Rich | undefined {
  const s = ctx.s.why;
  switch (purpose.basis) {
    case 'consent': {
      if (purpose.withdraw) return [s.optionalConsent, ctx.t(purpose.withdraw)];
      // Only the ways that exist: a privacy centre once the installation has one, an unsubscribe link for email.
      const ways = [
        ...(ctx.promises('privacy-centre') ? [s.withdrawCentre] : []),
        ...(purpose.channels?.email || purpose.channels?.sms ? [s.withdrawUnsubscribe] : []),
        s.withdrawContact,
      ];
      const contacts = rightsContactInline(ctx);
      const how: Inline[] = contacts.length ? [ctx.list(ways), ' (', ...contacts, ').'] : [`${ctx.list(ways)}.`];
      return [s.optionalConsent, ...how];
    }
    case 'contract':
      return [s.optionalContract];
    case 'legal-obligation':
      return [s.optionalLaw];
    case 'legitimate-interests':
    case 'public-task':
      return [s.optionalObject];
    default:
      return undefined;
  }
}
