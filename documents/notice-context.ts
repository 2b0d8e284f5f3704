// What every part of the notice needs: the register, the reader's language and its phrases, and a few lookups.
import type { Capabilities, Capability } from '../register/capabilities.ts';
import type { Language, RegisterData, Text } from '../register/schema.ts';
import { link, mailto, tel, type Inline, type Rich } from './document-model.ts';
import { joinList } from './describe-terms.ts';
import { pickText } from '../register/text.ts';
import { stringsFor, type Strings } from './strings.ts';

export interface NoticeContext {
  readonly r: RegisterData;
  readonly lang: Language;
  readonly s: Strings;
  /** Register text in the reader's language. */
  readonly t: (text: Text) => string;
  /** "a, b and c" in the reader's language, for short words. */
  readonly list: (items: readonly string[]) => string;
  /** Titles one after another ("a; b; c"): titles often contain commas and "and" themselves. */
  readonly items: (items: readonly string[]) => string;
  /** Whether the notice may make this promise: the register declares it and this installation can keep it. */
  readonly promises: (promise: Capability) => boolean;
}

export function noticeContext(r: RegisterData, lang: Language, capabilities: Capabilities): NoticeContext {
  return {
    r,
    lang,
    s: stringsFor(lang),
    t: (text) => pickText(text, lang),
    list: (items) => joinList(items, lang),
    items: (items) => items.join('; '),
    promises: (promise) => r.notice.promises.includes(promise) && capabilities[promise],
  };
}

type Purpose = RegisterData['purposes'][string];

export function purposeEntries(ctx: NoticeContext): [string, Purpose][] {
  return Object.entries(ctx.r.purposes);
}

export function titlesOf<T extends { title: Text }>(ctx: NoticeContext, pool: Readonly<Record<string, T>>, keys: readonly string[]): string[] {
  return keys.flatMap((k) => (pool[k] ? [ctx.t(pool[k].title)] : []));
}

/** Label and value lines for a contact: email, telephone, website, postal address. */
export function contactLines(
  ctx: NoticeContext,
  c: { email?: string | undefined; phone?: string | undefined; url?: string | undefined; address?: Text | undefined },
): Rich[] {
  const s = ctx.s.contact;
  const lines: Rich[] = [];
  if (c.address) lines.push([ctx.t(c.address)]);
  if (c.email) lines.push([`${s.email}: `, mailto(c.email)]);
  if (c.phone) lines.push([`${s.phone}: `, tel(c.phone)]);
  if (c.url) lines.push([`${s.website}: `, link(c.url, c.url)]);
  return lines;
}

/** Where people exercise their rights; falls back to the controller's and the DPO's contacts. */
export function rightsContactLines(ctx: NoticeContext): Rich[] {
  const { rights, controller } = ctx.r;
  const s = ctx.s.contact;
  const lines: Rich[] = [];
  const email = rights.email ?? controller.email ?? controller.dpo?.email;
  if (email) lines.push([`${s.email}: `, mailto(email)]);
  if (rights.url) lines.push([`${s.form}: `, link(rights.url, rights.url)]);
  const post = rights.post ?? (rights.email || rights.url ? undefined : controller.address);
  if (post) lines.push([`${s.post}: `, ctx.t(post)]);
  const phone = rights.phone ?? (rights.email || rights.url ? undefined : controller.phone);
  if (phone) lines.push([`${s.phone}: `, tel(phone)]);
  return lines;
}

/** The same contacts on one line, for sentences such as "withdraw your consent: ...". */
export function rightsContactInline(ctx: NoticeContext): Inline[] {
  const out: Inline[] = [];
  const email = ctx.r.rights.email ?? ctx.r.controller.email ?? ctx.r.controller.dpo?.email;
  if (email) out.push(mailto(email));
  if (ctx.r.rights.url) out.push(...(out.length ? [', '] : []), link(ctx.r.rights.url, ctx.r.rights.url));
  return out;
}

/**
 * The categories the business holds as controller: used by a purpose or collected at a point. A category that
 * only a processing activity (Art. 30(2)) uses is its clients' data, not the business's own, and stays out.
 */
export function controllerCategories(ctx: NoticeContext): string[] {
  const used = new Set<string>();
  for (const purpose of Object.values(ctx.r.purposes)) for (const d of purpose.data) used.add(d);
  for (const point of Object.values(ctx.r.collection)) for (const f of Object.values(point.fields)) used.add(f.data);
  return Object.keys(ctx.r.data).filter((k) => used.has(k));
}
