import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffRegisters, renderDiff, type Change } from './diff-registers.ts';
import { fixtureVariant, loadFixture, type YamlDoc } from './fixtures/load-fixture.ts';

const base = loadFixture('full-uk.yaml');
const changed = (change: (d: YamlDoc) => void) => diffRegisters(base, fixtureVariant('full-uk.yaml', change));
const one = (changes: Change[], kind: string) => {
  const found = changes.filter((c) => c.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in ${JSON.stringify(changes, null, 2)}`);
  return found[0]!;
};

test('identical registers: no changes, and a sentence that says so', () => {
  const changes = diffRegisters(base, loadFixture('full-uk.yaml'));
  assert.deepEqual(changes, []);
  assert.equal(renderDiff(changes, 'text'), 'No changes for the people this notice addresses.\n');
  assert.ok(renderDiff(changes, 'md').includes('No changes for the people this notice addresses.'));
  assert.ok(renderDiff(changes, 'html').includes('<p>No changes for the people this notice addresses.</p>'));
});

test('durations are compared by length: P12M and P1Y are the same period', () => {
  const a = fixtureVariant('full-uk.yaml', (d) => {
    d.purposes.analytics.retention.keep = 'P12M';
  });
  const b = fixtureVariant('full-uk.yaml', (d) => {
    d.purposes.analytics.retention.keep = 'P1Y';
  });
  assert.notEqual(a.fingerprint, b.fingerprint);
  assert.deepEqual(diffRegisters(a, b), []);
});

test('a new purpose is material and named with its basis', () => {
  const c = one(
    changed((d) => {
      d.purposes.research = {
        title: 'Improve our scanning protocols',
        basis: 'consent',
        subjects: ['patient'],
        data: ['patient-contact'],
        retention: { keep: 'P2Y', after: 'collected', then: 'anonymise' },
      };
    }),
    'purpose-added',
  );
  assert.deepEqual(c, {
    kind: 'purpose-added',
    key: 'purposes.research',
    severity: 'material',
    text: 'We now use your data for a new purpose: Improve our scanning protocols (legal basis: consent).',
  });
});

test('a new recipient abroad names the data, the country and the safeguard', () => {
  const c = one(
    changed((d) => {
      d.recipients.backup = { title: 'Backup provider', role: 'processor', country: 'US', transfer: { safeguard: 'scc' } };
      d.purposes.accounts.recipients = ['backup'];
    }),
    'recipient-added',
  );
  assert.equal(c.severity, 'material');
  assert.equal(c.text, 'We now share name, email and telephone number with a new recipient: Backup provider (United States, standard contractual clauses).');
});

test('longer retention is material and shows old → new; shorter is minor', () => {
  const longer = one(
    changed((d) => {
      d.purposes['provide-scan'].retention.keep = 'P11Y';
    }),
    'retention-longer',
  );
  assert.equal(longer.severity, 'material');
  assert.equal(longer.text, 'We now keep data for "Arrange the scan your dentist requested" longer: 8 years → 11 years after your scan is completed.');
  const shorter = one(
    changed((d) => {
      d.purposes.analytics.retention.keep = 'P13M';
    }),
    'retention-shorter',
  );
  assert.equal(shorter.severity, 'minor');
  assert.match(shorter.text, /14 months → 13 months after we collect it/);
  const trigger = one(
    changed((d) => {
      d.purposes.accounts.retention.after = 'relationship-ended';
    }),
    'retention-changed',
  );
  assert.equal(trigger.severity, 'material');
  assert.match(trigger.text, /6 years after your order is completed, then deleted → 6 years after our business relationship ends, then deleted/);
  assert.equal(
    one(
      changed((d) => {
        d.purposes['provide-scan'].retention['until-age'] = 26;
      }),
      'retention-longer',
    ).severity,
    'material',
  );
});

test('a new cookie is told with its purpose and lifetime', () => {
  const c = one(
    changed((d) => {
      d.cookies.ads = { names: ['_gcl_au'], purpose: 'analytics', lasts: 'P3M', provider: 'analytics' };
    }),
    'cookie-added',
  );
  assert.equal(c.severity, 'material');
  assert.equal(c.text, 'New cookie: _gcl_au (Understand how our website is used, 3 months).');
  const necessary = one(
    changed((d) => {
      d.cookies.csrf = { names: ['csrf'], purpose: 'strictly-necessary', lasts: 'session', provider: 'first-party' };
    }),
    'cookie-added',
  );
  assert.equal(necessary.severity, 'minor');
  assert.equal(
    one(
      changed((d) => {
        d.cookies.ga.lasts = 'P2Y';
      }),
      'cookie-longer',
    ).text,
    'The cookie _ga, _ga_* now lasts longer: 13 months → 2 years.',
  );
});

test('basis changes, new data and special categories, new transfers abroad are material', () => {
  assert.equal(
    one(
      changed((d) => {
        d.purposes['site-statistics'].basis = 'consent';
        delete d.purposes['site-statistics'].interest;
        d.purposes['site-statistics'].retention.keep = 'until-withdrawn';
      }),
      'purpose-basis-changed',
    ).text,
    'We changed the legal basis for "Count visits to our pages": legitimate interests → consent.',
  );
  const special = changed((d) => {
    d.data.genetic = { title: 'Genetic test results', special: 'genetic' };
    d.purposes['provide-scan'].data.push('genetic');
  });
  assert.equal(one(special, 'special-data-added').text, 'We now collect special category data (genetic data): Genetic test results.');
  assert.equal(one(special, 'purpose-data-added').severity, 'material');
  const moved = one(
    changed((d) => {
      d.recipients.mailer.country = 'US';
      d.recipients.mailer.transfer = { safeguard: 'dpf' };
    }),
    'recipient-country-changed',
  );
  assert.equal(
    moved.text,
    'Email delivery service now receives your data in a different country: Germany, adequacy decision → United States, Data Privacy Framework.',
  );
});

test('removals are minor; contact changes are told', () => {
  const changes = changed((d) => {
    delete d.purposes.newsletter;
    delete d.recipients.mailer;
    delete d.cookies.ga;
    d.controller.dpo.email = 'privacy-officer@harbour.example';
    d.rights.email = 'requests@harbour.example';
  });
  for (const kind of ['purpose-removed', 'recipient-removed', 'cookie-removed', 'dpo-changed', 'rights-contact-changed'])
    assert.equal(one(changes, kind).severity, 'minor', kind);
  assert.match(one(changes, 'dpo-changed').text, /privacy-officer@harbour\.example/);
  assert.equal(one(changes, 'recipient-removed').text, 'We no longer share your data with: Email delivery service.');
  assert.equal(
    one(
      changed((d) => {
        d.controller.name = 'Harbour Diagnostics Ltd';
      }),
      'controller-changed',
    ).severity,
    'material',
  );
});

test('new collection points and fields are told; a field for a new kind of data is material', () => {
  const changes = changed((d) => {
    d.collection.enquiry = {
      title: 'Contact form',
      subject: 'clinician',
      fields: { message: { data: 'contact', type: 'long-text', label: 'Your message' } },
      purposes: ['accounts'],
    };
    d.collection['practice-registration'].fields.phone = { data: 'contact', type: 'phone', label: 'Telephone' };
    d.collection['scan-request'].fields['clinical.history'] = { data: 'clinical', label: 'Medical history' };
    d.collection['scan-request'].fields['referrer.email'] = { data: 'contact', type: 'email', label: 'Referrer email' };
    d.purposes['provide-scan'].data.push('contact');
  });
  assert.equal(one(changes, 'collection-added').text, 'We now collect information through a new form or channel: Contact form (asking for: your message).');
  const fields = changes.filter((c) => c.kind === 'field-added');
  assert.deepEqual(
    fields.map((c) => [c.key, c.severity]),
    [
      ['collection.scan-request.fields.referrer.email', 'material'],
      ['collection.scan-request.fields.clinical.history', 'minor'],
      ['collection.practice-registration.fields.phone', 'minor'],
    ],
  );
});

test('material changes come first, and every format lists them', () => {
  const changes = changed((d) => {
    delete d.cookies['session-id'];
    d.purposes['provide-scan'].retention.keep = 'P11Y';
    d.purposes.accounts.title = 'Keep our <accounts>';
  });
  const severities = changes.map((c) => c.severity);
  assert.deepEqual(
    severities,
    [...severities].sort((a, b) => (a === b ? 0 : a === 'material' ? -1 : 1)),
  );
  assert.equal(severities[0], 'material');
  const text = renderDiff(changes, 'text');
  assert.match(text, /^Changes that matter to you:\n- We now keep data for/);
  assert.match(text, /\n\nOther changes:\n- /);
  const md = renderDiff(changes, 'md');
  assert.match(md, /## Changes that matter to you\n\n- We now keep/);
  assert.ok(md.includes('Keep our \\<accounts\\>'));
  const html = renderDiff(changes, 'html');
  assert.match(html, /^<section aria-labelledby="material-changes">\n<h2 id="material-changes">Changes that matter to you<\/h2>/);
  assert.ok(html.includes('Keep our &lt;accounts&gt;'));
  assert.doesNotMatch(html, /<accounts>/);
});

test('a statement withdrawn is material, one added is minor; changed security measures are listed', () => {
  const stated = fixtureVariant('full-uk.yaml', (d) => {
    d.notice.statements = ['no-sale'];
  });
  const dropped = diffRegisters(stated, base);
  assert.deepEqual(
    dropped.map((c) => [c.kind, c.severity, c.text]),
    [['statement-removed', 'material', 'This notice no longer states: "We do not sell, rent or trade your personal information."']],
  );
  assert.deepEqual(
    diffRegisters(base, stated).map((c) => [c.kind, c.severity]),
    [['statement-added', 'minor']],
  );
  const secured = changed((d) => {
    d.security.push('Two people must approve every export');
  });
  assert.deepEqual(
    secured.map((c) => c.kind),
    ['security-changed'],
  );
});

test('a form whose use now allows marketing without consent (soft opt-in) is material; one that no longer does is minor', () => {
  const a = loadFixture('full-uk.yaml');
  const b = fixtureVariant('full-uk.yaml', (d) => {
    const n = d.purposes.newsletter;
    n.basis = 'legitimate-interests';
    n.interest = 'Telling practices about new services';
    n.channels = { email: 'soft-opt-in', post: 'opt-out' };
    delete n['consent-lasts'];
    n.retention = { keep: 'until-objection', then: 'erase' };
    n['soft-opt-in'] = [{ point: 'practice-registration', sale: 'Registration to order scans' }];
    const form = d.collection['practice-registration'];
    form.purposes.push('newsletter');
    form.fields['no-news'] = { data: 'contact', type: 'boolean', objects: 'newsletter', label: 'No news, please' };
  });
  const added = one(diffRegisters(a, b), 'soft-opt-in-added');
  assert.equal(added.severity, 'material');
  assert.equal(
    added.text,
    'For "Tell you about new services" we may now contact you by email without asking for your consent once you have used "Practice registration" (Registration to order scans), unless you tick its box to refuse; you can still refuse in every message.',
  );
  const removed = one(diffRegisters(b, a), 'soft-opt-in-removed');
  assert.equal(removed.severity, 'minor');
  assert.equal(removed.text, 'For "Tell you about new services" using "Practice registration" no longer means we may contact you without your consent.');
  assert.deepEqual(diffRegisters(b, b), []);
});
