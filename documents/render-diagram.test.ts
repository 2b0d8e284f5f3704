import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transferNeedsSafeguard } from '../register/vocabulary.ts';
import type { Register } from '../register/load-register.ts';
import { fixtureVariant, loadFixture } from './fixtures/load-fixture.ts';
import { escapeXml } from './render-diagram-svg.ts';
import { renderDiagram } from './render-diagram.ts';

const uk = loadFixture('full-uk.yaml');
const eu = loadFixture('eu.yaml');

/** Every opened element is closed in order, and no bare "<" or "&" is left in text. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^<>]*?(\/?)>/g)) {
    const [, close, name, selfClosing] = m;
    if (selfClosing) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  const text = xml.replace(/<[A-Za-z/][^<>]*>/g, '');
  assert.doesNotMatch(text, /</, 'stray "<" in text');
  assert.doesNotMatch(text, /&(?!(amp|lt|gt|quot|apos|#\d+);)/, 'unescaped "&"');
}

/** Recipients that purposes share with and whose country needs a transfer safeguard. */
function needingSafeguard(r: Register): string[] {
  const used = new Set(Object.values(r.purposes).flatMap((p) => p.recipients));
  return [...used].filter((k) => transferNeedsSafeguard(r.recipients[k]!.country));
}

test('SVG: well formed, titled and described, with every purpose', () => {
  for (const r of [uk, eu]) {
    const svg = renderDiagram(r, 'svg');
    assert.match(
      svg,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* role="img" aria-labelledby="diagram-title diagram-desc">\n<title id="diagram-title">/,
    );
    assert.match(svg, /<desc id="diagram-desc">[^<]+<\/desc>/);
    assertWellFormed(svg);
    assert.doesNotMatch(svg, /<script|href=|<image|@import|url\((?!#)/);
    const text = svg.replace(/<\/text>\n<text class="label"[^>]*>/g, ' ');
    for (const p of Object.values(r.purposes)) {
      const title = typeof p.title === 'string' ? p.title : p.title.en;
      assert.ok(text.includes(escapeXml(title)), `purpose "${title}" appears`);
    }
    assert.match(svg, /Legend/);
  }
});

test('SVG: the transfer mark appears exactly on the recipients needing a safeguard', () => {
  for (const r of [uk, eu]) {
    const svg = renderDiagram(r, 'svg');
    const marks = [...svg.matchAll(/<text class="transfer-mark"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const expected = needingSafeguard(r).map((k) => {
      const rec = r.recipients[k]!;
      const codes: Record<string, string> = { scc: 'SCC', dpf: 'DPF', 'uk-addendum': 'SCC + UK Addendum' };
      return `⚠ ${rec.country} — ${codes[rec.transfer!.safeguard]}`;
    });
    assert.deepEqual(marks.sort(), expected.sort());
    assert.equal(svg.match(/class="edge transfer"/g)?.length, expected.length + 1, 'one dashed edge per transfer, plus the legend');
  }
  assert.ok(needingSafeguard(eu).length === 1, 'Japan has adequacy; only the US recipient is marked');
  const special = renderDiagram(uk, 'svg').match(/<g class="node special">/g) ?? [];
  assert.equal(special.length, 1, 'only the purpose using health data is marked special');
});

test('SVG: register text is XML-escaped', () => {
  const hostile = fixtureVariant('eu.yaml', (d) => {
    d.purposes.support.title = 'Support & <b>"help"</b>';
  });
  const svg = renderDiagram(hostile, 'svg');
  assertWellFormed(svg);
  assert.ok(svg.includes('Support &amp; &lt;b&gt;&quot;help&quot;&lt;/b&gt;'));
});

test('Mermaid: a left-to-right flowchart with a subgraph per column and edges between declared nodes', () => {
  const mermaid = renderDiagram(uk, 'mermaid');
  const lines = mermaid.trimEnd().split('\n');
  assert.equal(lines[0], 'flowchart LR');
  assert.equal(lines.filter((l) => /^ {2}subgraph col\d\["[^"]+"\]$/.test(l)).length, 3);
  assert.equal(lines.filter((l) => l === '  end').length, 3);
  const nodes = new Set(lines.flatMap((l) => /^ {4}([a-z]_[a-z0-9_]+)\["[^"]*"\]$/.exec(l)?.[1] ?? []));
  assert.equal(nodes.size, Object.keys(uk.collection).length + Object.keys(uk.sources).length + Object.keys(uk.purposes).length + 5);
  const edges = lines.flatMap((l) => {
    const m = /^ {2}(\S+) (-->|-\.->) (\S+)$/.exec(l);
    return m ? [{ from: m[1]!, dashed: m[2] === '-.->', to: m[3]! }] : [];
  });
  for (const e of edges) assert.ok(nodes.has(e.from) && nodes.has(e.to), `${e.from} → ${e.to} joins declared nodes`);
  assert.ok(edges.some((e) => e.from === 'c_scan_request' && e.to === 'p_provide_scan'));
  assert.ok(edges.some((e) => e.from === 'p_provide_scan' && e.to === 'r_radiologists' && !e.dashed));
  assert.deepEqual(
    edges
      .filter((e) => e.dashed)
      .map((e) => e.to)
      .sort(),
    needingSafeguard(uk)
      .map((k) => `r_${k.replace(/-/g, '_')}`)
      .sort(),
  );
  assert.equal(mermaid.match(/⚠/g)?.length, needingSafeguard(uk).length);
  const dashedIndexes = edges.flatMap((e, i) => (e.dashed ? [i] : [])).join(',');
  assert.ok(lines.includes(`  linkStyle ${dashedIndexes} stroke:#c62828,stroke-width:2px,stroke-dasharray:6 4`));
  assert.ok(lines.includes('  class p_provide_scan special'));
});

test('Mermaid: quotes and markup in labels become entity codes, so labels stay quoted', () => {
  const hostile = fixtureVariant('eu.yaml', (d) => {
    d.purposes.support.title = 'Say "hi" <b>#1</b> & more';
  });
  const mermaid = renderDiagram(hostile, 'mermaid');
  assert.ok(mermaid.includes('p_support["Say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt; #amp; more<br/>contract"]'));
});
