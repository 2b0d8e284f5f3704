// The cookie banner, run in visitors' browsers: bundled by esbuild (web/consent-bundle.ts) into GET /consent.js with
// the register's configuration (web/consent-config.ts) in CONFIG. No dependencies; every byte counts (≤ 6 KB gzipped).
//
// First layer: Accept all and Reject all, equal; "Choose" opens one switch per consent purpose (none set), with the
// cookies, providers and durations. The choice goes into the cookie the register declares keeps it
// (`keeps-consent-choice`), with its declared lifetime as Max-Age, as "fingerprint.expiry.visitorId.allowed~purposes",
// and to POST /api/v1/consent; with nothing to ask about, no choice is kept and no cookie set. Gated elements
// (<script type="text/plain" data-consent=P>, <iframe data-consent=P data-src=…>) run only once P is allowed.
// navigator.globalPrivacyControl refuses everything without asking; UK DUAA-exempt purposes run until objected to.

type T = string | { en: string; de: string };
interface Purpose {
  id: string;
  title: T;
  exempt?: 'statistics' | 'appearance';
  gcm?: 'a' | 'ad';
  cookies: { n: string; p: T; l: T }[];
}
declare const CONFIG: { v: string; cookie: string; life: number; valid: number; lang: 'en' | 'de'; ga: boolean; purposes: Purpose[] };

const S = {
  en: {
    title: 'Cookies on this site',
    intro: 'We use cookies that are strictly necessary to run this site. With your consent we would also use cookies to:',
    only: 'This site uses only cookies that are strictly necessary.',
    exempt: 'UK law lets us use these cookies without asking; you can object:',
    object: 'Object',
    objected: 'Objected',
    gpc: 'Your browser sent a Global Privacy Control signal: we have honoured it and refused every cookie that is not strictly necessary.',
    accept: 'Accept all',
    reject: 'Reject all',
    choose: 'Let me choose',
    save: 'Save my choices',
    close: 'Close',
    settings: 'Cookie settings',
    notice: 'Privacy notice',
    head: ['Cookie', 'Provider', 'Lasts'],
    load: 'Load content from ',
    embed: 'This content comes from %, which may set cookies.',
  },
  de: {
    title: 'Cookies auf dieser Website',
    intro: 'Wir verwenden Cookies, die für den Betrieb dieser Website notwendig sind. Mit Ihrer Einwilligung würden wir Cookies auch hierfür verwenden:',
    only: 'Diese Website verwendet nur technisch notwendige Cookies.',
    exempt: 'Das britische Recht erlaubt uns diese Cookies ohne Einwilligung; Sie können widersprechen:',
    object: 'Widersprechen',
    objected: 'Widersprochen',
    gpc: 'Ihr Browser hat ein Global-Privacy-Control-Signal gesendet: Wir haben es beachtet und alle nicht notwendigen Cookies abgelehnt.',
    accept: 'Alle akzeptieren',
    reject: 'Alle ablehnen',
    choose: 'Selbst auswählen',
    save: 'Auswahl speichern',
    close: 'Schließen',
    settings: 'Cookie-Einstellungen',
    notice: 'Datenschutzerklärung',
    head: ['Cookie', 'Anbieter', 'Dauer'],
    load: 'Inhalt laden von ',
    embed: 'Dieser Inhalt stammt von %; dort können Cookies gesetzt werden.',
  },
};

const C = CONFIG;
const w = window as unknown as { dataLayer?: unknown[]; gtag?: (...a: unknown[]) => void; CustodianConsent?: unknown };
const d = document;
const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
const gpc = nav.globalPrivacyControl === true;
const origin = new URL((d.currentScript as HTMLScriptElement).src).origin;
const lang = /^de/i.test(d.documentElement.lang || nav.language || C.lang) ? 'de' : 'en';
const s = S[lang];
const t = (x: T) => (typeof x === 'string' ? x : x[lang]);
const P = C.purposes;
const now = () => Math.floor(Date.now() / 1000);

// The stored choice: valid only for this register's purposes and until it expires.
let id = '';
let allowed: Set<string> | null = null;
const m = C.cookie && d.cookie.match(new RegExp(`(?:^|; )${C.cookie.replace(/[^\w-]/g, '\\$&')}=([^;]*)`));
if (m) {
  const [v, exp, vid, list] = decodeURIComponent(m[1] as string).split('.');
  id = vid ?? '';
  if (v === C.v && Number(exp) > now()) allowed = new Set(list ? list.split('~') : []);
}
// Global Privacy Control refuses everything, whatever was chosen before (the consent API records it so too).
const ok = (p: string) => !gpc && (allowed ? allowed.has(p) : !!P.find((x) => x.id === p)?.exempt);

// Google Consent Mode v2: denied by default, then the choice.
const gtag = (...a: unknown[]) => {
  if (C.ga) {
    w.dataLayer = w.dataLayer || [];
    // gtag reads an arguments object, not an array.
    (w.gtag ||= function (this: unknown) {
      // biome-ignore lint/complexity/noArguments: Google's tag reads the arguments object itself
      w.dataLayer!.push(arguments);
    })(...a);
  }
};
const signals = () => {
  const on = (k: 'a' | 'ad') => (P.some((p) => p.gcm === k && ok(p.id)) ? 'granted' : 'denied');
  return { analytics_storage: on('a'), ad_storage: on('ad'), ad_user_data: on('ad'), ad_personalization: on('ad') };
};
gtag('consent', 'default', { analytics_storage: 'denied', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' });
if (allowed) gtag('consent', 'update', signals());

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]) => {
  const e = d.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k] as string);
  e.append(...kids);
  return e;
};
const button = (text: string, on: () => void, cls = 'cc-b') => {
  const b = el('button', { type: 'button', class: cls }, text);
  b.onclick = on;
  return b;
};

// Gated scripts and iframes.
const run = () => {
  for (const old of d.querySelectorAll<HTMLScriptElement>('script[type="text/plain"][data-consent]')) {
    if (!ok(old.dataset.consent as string)) continue;
    const n = el('script');
    for (const a of old.attributes) if (a.name !== 'type') n.setAttribute(a.name, a.value);
    if (old.dataset.type) n.type = old.dataset.type;
    n.async = false;
    n.text = old.text;
    old.replaceWith(n);
  }
  for (const f of d.querySelectorAll<HTMLIFrameElement>('iframe[data-consent][data-src]')) {
    const src = f.dataset.src as string;
    const show = () => {
      f.removeAttribute('data-src');
      f.src = src;
      f.hidden = false;
      f.previousElementSibling?.classList.contains('cc-p') && f.previousElementSibling.remove();
    };
    if (ok(f.dataset.consent as string)) show();
    else if (!f.previousElementSibling?.classList.contains('cc-p')) {
      const who = f.dataset.provider || new URL(src, location.href).hostname;
      const ph = el('div', { class: 'cc-p' }, el('p', {}, s.embed.replace('%', who)), button(s.load + who, show));
      ph.style.cssText = `width:${f.width || f.offsetWidth}px;height:${f.height || f.offsetHeight}px`;
      f.before(ph);
      f.hidden = true;
    }
  }
};

// Cookies of refused purposes are deleted, on this host and the domains above it.
const clear = () => {
  const pats = P.filter((p) => !ok(p.id)).flatMap((p) =>
    p.cookies.flatMap((c) =>
      c.n.split(', ').map(
        (n) =>
          new RegExp(
            `^${n
              .replace(/\.\*/g, '*')
              .split('*')
              .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*')}$`,
          ),
      ),
    ),
  );
  const host = location.hostname.split('.');
  for (const c of d.cookie.split('; ')) {
    const name = c.split('=')[0] as string;
    if (!pats.some((r) => r.test(name))) continue;
    for (let i = 0; i < host.length; i++) {
      // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is not in every browser yet
      d.cookie = `${name}=; Max-Age=0; path=/${i ? `; domain=.${host.slice(i).join('.')}` : ''}`;
    }
  }
};

const save = (grant: Set<string>) => {
  allowed = grant;
  id ||= crypto.randomUUID();
  const value = [C.v, now() + C.valid, id, [...grant].join('~')].join('.');
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is not in every browser yet
  d.cookie = `${C.cookie}=${value}${C.life ? `; Max-Age=${C.life}` : ''}; path=/; SameSite=Lax${location.protocol === 'https:' ? '; Secure' : ''}`;
  const purposes: Record<string, boolean> = {};
  // Exempt purposes are named only to object to them.
  for (const p of P) if (!p.exempt || !grant.has(p.id)) purposes[p.id] = grant.has(p.id);
  if (Object.keys(purposes).length)
    fetch(`${origin}/api/v1/consent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ visitorId: id, purposes, method: gpc ? 'gpc' : 'banner', language: lang }),
      credentials: 'omit',
      keepalive: true,
    }).catch(() => {});
  gtag('consent', 'update', signals());
  clear();
  run();
};
// Reject all objects to the exempt purposes too; keeping the current state is how an informational banner closes.
const all = (yes: boolean) => save(new Set(yes ? P.map((p) => p.id) : []));
const keep = () => save(new Set(P.filter((p) => ok(p.id)).map((p) => p.id)));

// The dialog: one element, the layer drawn into it.
const css = `.cc{position:fixed;inset:auto 0 1em;z-index:2147483647;max-height:85vh;overflow:auto;box-sizing:border-box;width:calc(100% - 2em);max-width:40em;margin:0 auto;box-shadow:0 4px 24px #0005;border:2px solid #1a1a1a;border-radius:6px;padding:1em 1.25em;background:#fff;color:#1a1a1a;font:16px/1.45 system-ui,sans-serif}.cc h2{font-size:1.2em;margin:0 0 .5em}.cc-r{display:flex;flex-wrap:wrap;gap:.5em;margin-top:1em}.cc-b,.cc-l{font:inherit;cursor:pointer;border-radius:4px;padding:.5em 1em}.cc-b{background:#1d4ed8;color:#fff;border:2px solid #1d4ed8;min-width:10em}.cc-l{background:none;border:0;color:#1d4ed8;text-decoration:underline}.cc a{color:#1d4ed8}.cc :focus-visible,.cc-p :focus-visible{outline:3px solid #b45309;outline-offset:2px}.cc-g{border-top:1px solid #6b6b6b;padding:.5em 0}.cc label{font-weight:600;display:block;margin-bottom:.3em}.cc table{border-collapse:collapse;font-size:.875em}.cc td,.cc th{border:1px solid #6b6b6b;padding:.2em .4em;text-align:left}.cc-p{display:flex;flex-direction:column;justify-content:center;align-items:center;gap:.5em;background:#f3f4f6;color:#1a1a1a;border:1px solid #6b6b6b;padding:1em;box-sizing:border-box;text-align:center}`;
let dlg: HTMLDialogElement | undefined;
let back: HTMLElement | null = null;

const layer = (second: boolean) => {
  if (!dlg) {
    d.head.append(el('style', {}, css));
    dlg = el('dialog', { class: 'cc', 'aria-labelledby': 'cc-t', 'aria-describedby': 'cc-d', lang });
    dlg.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      // Escape steps back from the second layer; the first layer waits for a choice.
      e.preventDefault();
      if (dlg?.dataset.l === '2') layer(false);
    });
    dlg.tabIndex = -1;
    d.body.append(dlg);
  }
  const consent = P.filter((p) => !p.exempt);
  const exempt = P.filter((p) => p.exempt);
  const kids: (Node | string)[] = [el('h2', { id: 'cc-t' }, s.title)];
  const desc = el('div', { id: 'cc-d' });
  kids.push(desc);
  if (gpc) desc.append(el('p', {}, s.gpc));
  if (!P.length) desc.append(el('p', {}, s.only));
  const close = () => {
    dlg?.close();
    back?.focus();
  };
  const actions = el('div', { class: 'cc-r' });
  if (!second) {
    if (consent.length) desc.append(el('p', {}, s.intro), el('ul', {}, ...consent.map((p) => el('li', {}, t(p.title)))));
    if (exempt.length) {
      desc.append(el('p', {}, s.exempt));
      const list = el('ul');
      for (const p of exempt) {
        const b = button(
          ok(p.id) ? s.object : s.objected,
          () => {
            const g = new Set(P.filter((x) => ok(x.id)).map((x) => x.id));
            g.delete(p.id);
            save(g);
            b.textContent = s.objected;
            b.setAttribute('aria-label', `${s.objected}: ${t(p.title)}`);
            b.disabled = true;
          },
          'cc-l',
        );
        b.disabled = !ok(p.id);
        b.setAttribute('aria-label', `${ok(p.id) ? s.object : s.objected}: ${t(p.title)}`);
        list.append(el('li', {}, `${t(p.title)} `, b));
      }
      desc.append(list);
    }
    if (consent.length && !gpc)
      actions.append(
        button(s.accept, () => (all(true), close())),
        button(s.reject, () => (all(false), close())),
        button(s.choose, () => layer(true), 'cc-l'),
      );
    // Nothing to consent to (exempt cookies only) or already refused by GPC: closing keeps things as they are; with
    // nothing at all to ask about there is no choice to keep.
    else actions.append(button(s.close, () => (gpc || !P.length || keep(), close())));
  } else {
    const boxes: [string, HTMLInputElement][] = [];
    P.forEach((p, i) => {
      const box = el('input', { type: 'checkbox', role: 'switch', id: `cc-${i}` });
      box.checked = ok(p.id);
      boxes.push([p.id, box]);
      const rows = p.cookies.map((c) => el('tr', {}, el('td', {}, c.n), el('td', {}, t(c.p)), el('td', {}, t(c.l))));
      kids.push(
        el(
          'div',
          { class: 'cc-g' },
          el('label', {}, box, ' ', t(p.title)),
          el('table', {}, el('tr', {}, ...s.head.map((h) => el('th', { scope: 'col' }, h))), ...rows),
        ),
      );
    });
    actions.append(
      button(s.save, () => (save(new Set(boxes.filter(([, b]) => b.checked).map(([p]) => p))), close())),
      button(s.accept, () => (all(true), close())),
      button(s.reject, () => (all(false), close())),
    );
  }
  kids.push(actions, el('p', {}, el('a', { href: `${origin}/privacy${lang === 'de' ? '?lang=de' : ''}#cookies` }, s.notice)));
  dlg.replaceChildren(...kids);
  dlg.dataset.l = second ? '2' : '1';
  // Not modal: the page stays usable (nothing optional runs meanwhile). Focus goes in, and back where it was on close.
  if (!dlg.open) {
    back = d.activeElement as HTMLElement | null;
    dlg.show();
  }
  dlg.focus();
};

const start = () => {
  if (!d.querySelector('[data-consent-settings]')) d.body.append(el('p', { class: 'cc-f' }, el('a', { href: '#', 'data-consent-settings': '' }, s.settings)));
  d.addEventListener('click', (e) => {
    if ((e.target as Element).closest?.('[data-consent-settings]')) {
      e.preventDefault();
      layer(P.length > 0 && !gpc);
    }
  });
  run();
  clear();
  // Gated elements added later (a single-page app, a late embed) are handled as they arrive.
  new MutationObserver(run).observe(d.body, { childList: true, subtree: true });
  if (allowed || !P.length) return;
  // A Global Privacy Control signal is a choice already made: saved at once, the banner only says so (once).
  if (gpc) save(new Set());
  layer(false);
};
if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
else start();
w.CustodianConsent = { open: () => layer(P.length > 0 && !gpc), allowed: ok };
