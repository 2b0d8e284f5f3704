// Notice sections on rights (Arts. 12-22), complaints, the register's own extra sections and the version.
import { pickText } from '../register/text.ts';
import { link, note, p, paragraphs, tel, type Block, type Rich, type Section } from './document-model.ts';
import { EU_AUTHORITIES_LIST, ICO, UK_COMPLAINTS_FIRST_FROM } from './authorities.ts';
import { formatDate, shortFingerprint } from './describe-terms.ts';
import { SOURCE_SUBJECT } from '../register/vocabulary.ts';
import { contactLines, purposeEntries, rightsContactLines, type NoticeContext } from './notice-context.ts';

type Purpose = NoticeContext['r']['purposes'][string];

export function rightsSection(ctx: NoticeContext): Section {
  const s = ctx.s.rights;
  const { r } = ctx;
  const jurisdiction = r.controller.jurisdiction;
  const purposes = purposeEntries(ctx);
  const titles = (keep: (x: Purpose, key: string) => boolean) => ctx.items(purposes.filter(([k, x]) => keep(x, k)).map(([, x]) => ctx.t(x.title)));
  const usesHealth = (x: Purpose) => x.data.some((d) => r.data[d]?.special === 'health');

  const objectable = titles((x) => x.basis === 'legitimate-interests' || x.basis === 'public-task');
  const marketing = purposes.some(([, x]) => x.channels && Object.keys(x.channels).length > 0);
  const portable = titles((x, k) => (x.basis === 'consent' || x.basis === 'contract') && providedByYou(ctx, k));
  const consented = titles((x) => x.basis === 'consent');
  const automated = titles((x) => x.automated !== undefined);
  // Art. 17(3)(b): name the purposes that keep data because the law says so, and health records only if held.
  const keptByLaw = purposes.filter(([, x]) => x.basis === 'legal-obligation');
  // DPA 2018 Sch. 3 Part 2: the serious-harm rule applies to health data, in the UK.
  const healthHeld = jurisdiction === 'uk' && purposes.some(([, x]) => usesHealth(x));

  const right = (pair: readonly [string, string], ...more: string[]) => ({ term: pair[0], detail: [[pair[1], ...more].filter(Boolean).join(' ')] });
  const objection = [objectable ? s.objectionApplies(objectable) : marketing ? '' : s.objectionNone, marketing ? s.objectionMarketing : ''];
  const erasure = keptByLaw.length
    ? [s.erasureLaw(ctx.items(keptByLaw.map(([, x]) => ctx.t(x.title)))), keptByLaw.some(([, x]) => usesHealth(x)) ? s.erasureHealth : '']
    : [];

  const blocks: Block[] = [
    p(s.intro),
    {
      kind: 'dl',
      items: [
        right(s.access, s.accessLimits[jurisdiction], healthHeld ? s.accessHealth[r.controller['health-professional'] ? 'professional' : 'other'] : ''),
        right(s.rectification, s.rectificationLimits[jurisdiction]),
        right(s.erasure, ...erasure, s.erasureClaims),
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
    p(`${s.time[jurisdiction]} ${s.extension}`),
    p(s.electronic),
  ];
  return { id: 'your-rights', heading: ctx.s.heading['your-rights'], blocks };
}

/**
 * Art. 20 covers only what the person gave us themselves, by automated means: a purpose qualifies when a
 * collection point takes data for it from the person it is about (not from a referrer, a cookie or a log).
 */
function providedByYou(ctx: NoticeContext, purpose: string): boolean {
  return Object.values(ctx.r.collection).some((point) => point.source === SOURCE_SUBJECT && point.purposes.includes(purpose));
}

export function complaintsSection(ctx: NoticeContext): Section {
  const s = ctx.s.complaints;
  const { controller, notice } = ctx.r;
  const jurisdiction = controller.jurisdiction;
  const blocks: Block[] = [];
  // UK DPA 2018 s.164A: what the notice says depends on whether its date is before or after the duty begins.
  if (jurisdiction === 'uk' && ctx.promises('complaint-handling')) {
    blocks.push(p(notice.effective >= UK_COMPLAINTS_FIRST_FROM ? s.handled : s.handledFrom(formatDate(UK_COMPLAINTS_FIRST_FROM, ctx.lang))));
  } else {
    blocks.push(p(s.tellUs));
  }
  blocks.push({ kind: 'address', lines: rightsContactLines(ctx) });

  const authority = controller.authority;
  if (jurisdiction === 'eu') blocks.push(p(s.eu));
  if (authority) {
    const lines: Rich[] = [[ctx.t(authority.name)], ...contactLines(ctx, { address: authority.address, phone: authority.phone, url: authority.url })];
    blocks.push(p(s.authority[jurisdiction]), { kind: 'address', lines });
  } else if (jurisdiction === 'uk') {
    blocks.push(p(s.ico), {
      kind: 'address',
      lines: [[`${ICO.name} (ICO)`], [ICO.address], [`${ctx.s.contact.website}: `, link(ICO.url, ICO.url)], [`${ctx.s.contact.phone}: `, tel(ICO.phone)]],
    });
  }
  if (jurisdiction === 'uk' && controller['eu-complaints']) blocks.push(p(s.euFromUk));
  const euRoute = jurisdiction === 'eu' ? !authority : controller['eu-complaints'];
  const list = controller['authorities-list'] ?? (euRoute ? EU_AUTHORITIES_LIST : undefined);
  if (list) blocks.push(p(link(s.authoritiesList, list)));
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
  'security',
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
    blocks: [
      p(s.version(notice.version, formatDate(notice.effective, ctx.lang))),
      p(ctx.promises('change-notices') ? s.tell : s.publish),
      note(s.fingerprint(shortFingerprint(fingerprint))),
    ],
  };
}
