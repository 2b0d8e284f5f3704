// Notice sections on rights (Arts. 12-22), complaints, the register's own extra sections and the version.
import { pickText } from '../register/text.ts';
import { link, note, p, paragraphs, tel, type Block, type Rich, type Section } from './document-model.ts';
import { EU_AUTHORITIES_LIST, ICO, UK_COMPLAINTS_FIRST_FROM } from './authorities.ts';
import { formatDate, shortFingerprint } from './describe-terms.ts';
import { contactLines, purposeEntries, rightsContactLines, type NoticeContext } from './notice-context.ts';

export function rightsSection(ctx: NoticeContext): Section {
  const s = ctx.s.rights;
  const { r } = ctx;
  const purposes = purposeEntries(ctx);
  const titles = (keep: (x: (typeof purposes)[number][1]) => boolean) => ctx.items(purposes.filter(([, x]) => keep(x)).map(([, x]) => ctx.t(x.title)));

  const objectable = titles((x) => x.basis === 'legitimate-interests' || x.basis === 'public-task');
  const marketing = purposes.some(([, x]) => x.channels && Object.keys(x.channels).length > 0);
  const portable = titles((x) => x.basis === 'consent' || x.basis === 'contract');
  const consented = titles((x) => x.basis === 'consent');
  const automated = titles((x) => x.automated !== undefined);
  // Statutory retention or health-care records limit erasure; say so only where it can happen.
  const mustKeep = purposes.some(
    ([, x]) => x.basis === 'legal-obligation' || x.retention.law || x.condition === 'health-care' || x.condition === 'public-health',
  );

  const right = (pair: readonly [string, string], ...more: string[]) => ({ term: pair[0], detail: [[pair[1], ...more].join(' ')] });
  const objection = [objectable ? s.objectionApplies(objectable) : marketing ? '' : s.objectionNone, marketing ? s.objectionMarketing : ''].filter(Boolean);

  const blocks: Block[] = [
    p(s.intro),
    {
      kind: 'dl',
      items: [
        right(s.access),
        right(s.rectification),
        right(s.erasure, mustKeep ? s.erasureLimits : s.erasureClaims),
        right(s.restriction),
        right(s.objection, ...objection),
        right(s.portability, portable ? s.portabilityApplies(portable) : s.portabilityNone),
        right(s.withdraw, consented ? s.withdrawApplies(consented) : s.withdrawNone),
        right(s.automated, automated ? s.automatedApplies(automated) : s.automatedNone),
        right(s.complain),
      ],
    },
    { kind: 'h3', text: s.howHeading, id: 'how-to-use-your-rights' },
    p(s.how),
    { kind: 'address', lines: rightsContactLines(ctx) },
    p(s.identity[r.rights.identity]),
    p(s.fee(r.rights['further-copy-fee'])),
    p(`${s.time[r.controller.jurisdiction]} ${s.extension}`),
    p(s.electronic),
  ];
  return { id: 'your-rights', heading: ctx.s.heading['your-rights'], blocks };
}

export function complaintsSection(ctx: NoticeContext): Section {
  const s = ctx.s.complaints;
  const { controller, notice } = ctx.r;
  const blocks: Block[] = [];
  if (controller.jurisdiction === 'uk') {
    blocks.push(p(notice.effective >= UK_COMPLAINTS_FIRST_FROM ? s.usFirst : s.usBefore(formatDate(UK_COMPLAINTS_FIRST_FROM, ctx.lang))));
  } else {
    blocks.push(p(s.euUs));
  }
  blocks.push({ kind: 'address', lines: rightsContactLines(ctx) });

  const authority = controller.authority;
  if (authority) {
    const lines: Rich[] = [[ctx.t(authority.name)], ...contactLines(ctx, { address: authority.address, phone: authority.phone, url: authority.url })];
    blocks.push(p(s.authority), { kind: 'address', lines });
  } else if (controller.jurisdiction === 'uk') {
    blocks.push(p(s.ico), {
      kind: 'address',
      lines: [[`${ICO.name} (ICO)`], [ICO.address], [`${ctx.s.contact.website}: `, link(ICO.url, ICO.url)], [`${ctx.s.contact.phone}: `, tel(ICO.phone)]],
    });
  } else {
    blocks.push(p(s.generic), p(link(s.authoritiesList, EU_AUTHORITIES_LIST)));
  }
  return { id: 'complaints', heading: ctx.s.heading.complaints, blocks };
}

const FIXED_IDS = new Set([
  'other-sources',
  'categories',
  'how-to-use-your-rights',
  'who-we-are',
  'what-we-collect',
  'why-and-basis',
  'recipients',
  'transfers',
  'retention',
  'cookies',
  'marketing',
  'automated-decisions',
  'your-rights',
  'complaints',
  'changes',
]);

/** The register's free-text sections, with ids from their English headings so links survive translation. */
export function extraSections(ctx: NoticeContext): Section[] {
  const taken = new Set(FIXED_IDS);
  return ctx.r.notice.extra.map((extra, i) => {
    const base =
      pickText(extra.heading, 'en')
        .toLowerCase()
        .normalize('NFKD')
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || `section-${i + 1}`;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
    taken.add(id);
    return { id, heading: ctx.t(extra.heading), blocks: paragraphs(ctx.t(extra.text)) };
  });
}

export function changesSection(ctx: NoticeContext, fingerprint: string): Section {
  const s = ctx.s.changes;
  const { notice } = ctx.r;
  return {
    id: 'changes',
    heading: ctx.s.heading.changes,
    blocks: [p(s.version(notice.version, formatDate(notice.effective, ctx.lang))), p(s.tell), note(s.fingerprint(shortFingerprint(fingerprint)))],
  };
}
