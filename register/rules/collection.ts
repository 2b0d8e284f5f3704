// Collection points: every field maps to a category that one of the point's purposes uses.
import { CONTACT_KINDS, identifierRule } from '../identifiers.ts';
import { SOURCE_SUBJECT } from '../vocabulary.ts';
import type { RuleContext } from './context.ts';

export function checkCollection(ctx: RuleContext): void {
  const { r, error, warn, ref, keys, used } = ctx;
  for (const [kind, rule] of Object.entries(r.identifiers)) {
    if (!rule) continue;
    if (CONTACT_KINDS.has(kind) && rule.strength !== 'contact')
      error(
        ['identifiers', kind, 'strength'],
        `${kind === 'email' ? 'an email address' : 'a phone number'} is a contact point families and colleagues share: it must be "contact", never an identity`,
      );
    if (rule.strength === 'contact' && rule.scope !== 'register') error(['identifiers', kind, 'scope'], 'only a strong identifier has a scope');
  }
  for (const [dk, d] of Object.entries(r.data)) {
    d.about?.forEach((x, i) => {
      ref(['data', dk, 'about', i], x, keys.subjects, 'subject kind', used.subjects);
    });
  }
  for (const [ck, c] of Object.entries(r.collection)) {
    const at = ['collection', ck];
    ref([...at, 'subject'], c.subject, keys.subjects, 'subject kind', used.subjects);
    const validPurposes = c.purposes.filter((p, i) => ref([...at, 'purposes', i], p, keys.purposes, 'purpose'));
    if (c.source !== SOURCE_SUBJECT)
      ref([...at, 'source'], c.source, [SOURCE_SUBJECT, ...keys.subjects, ...keys.sources], 'source', c.source in r.sources ? used.sources : used.subjects);
    if (c.starts) ref([...at, 'starts'], c.starts, keys.events, 'event', used.events);
    const purposeData = new Set(validPurposes.flatMap((p) => r.purposes[p]!.data));
    for (const [fk, f] of Object.entries(c.fields)) {
      const fp = [...at, 'fields', fk];
      if (!ref([...fp, 'data'], f.data, keys.data, 'data category', used.data)) continue;
      if (validPurposes.length > 0 && !purposeData.has(f.data)) {
        error([...fp, 'data'], `"${f.data}" is collected here but none of this point's purposes (${validPurposes.join(', ')}) lists it under "data"`);
      }
      if (f.type === 'choice' && !f.choices?.length) error([...fp, 'type'], 'a choice field must list its "choices"');
      if (f.choices && f.type !== 'choice') warn([...fp, 'choices'], '"choices" only applies to fields of type choice');
      if (f.consent) {
        const target = r.purposes[f.consent];
        if (f.type !== 'boolean') error([...fp, 'type'], 'a consent checkbox must have type boolean');
        if (!ref([...fp, 'consent'], f.consent, keys.purposes, 'purpose')) continue;
        if (target!.basis !== 'consent')
          error([...fp, 'consent'], `"${f.consent}" is based on ${target!.basis}, not consent: a checkbox cannot give consent to it`);
        if (!c.purposes.includes(f.consent)) error([...fp, 'consent'], `"${f.consent}" is not one of this point's purposes`);
        if (f.channel && !target!.channels?.[f.channel]) error([...fp, 'channel'], `"${f.consent}" does not declare the ${f.channel} channel`);
        if (f.required) error([...fp, 'required'], 'consent must be freely given: a consent checkbox cannot be required (no pre-ticked or mandatory boxes)');
      } else if (f.objects) {
        const target = r.purposes[f.objects];
        if (f.type !== 'boolean') error([...fp, 'type'], 'an objection checkbox must have type boolean');
        if (!ref([...fp, 'objects'], f.objects, keys.purposes, 'purpose')) continue;
        if (!target!.channels)
          error([...fp, 'objects'], `"${f.objects}" is not direct marketing (it declares no channels): object to it through the privacy centre`);
        if (!c.purposes.includes(f.objects)) error([...fp, 'objects'], `"${f.objects}" is not one of this point's purposes`);
        if (f.channel && !target!.channels?.[f.channel]) error([...fp, 'channel'], `"${f.objects}" does not declare the ${f.channel} channel`);
        if (f.required) error([...fp, 'required'], 'an objection checkbox cannot be required');
      } else if (f.channel) error([...fp, 'channel'], '"channel" only applies to consent and objection checkboxes');
      if (f.about !== undefined) ref([...fp, 'about'], f.about, keys.subjects, 'subject kind', used.subjects);
      if (f['birth-date'] && f.type !== 'date') error([...fp, 'type'], 'a birth-date field must have type date');
      if (f.identifier === 'email' && f.type !== 'email') error([...fp, 'type'], 'an email identifier must have type email');
      if (f.identifier === 'phone' && f.type !== 'phone') error([...fp, 'type'], 'a phone identifier must have type phone');
      if (f['full-name'] && f.type !== 'text') error([...fp, 'type'], 'a full-name field must have type text');
      if (f.type !== 'file') {
        if (f.accept) error([...fp, 'accept'], '"accept" only applies to fields of type file');
        if (f['max-size'] !== undefined) error([...fp, 'max-size'], '"max-size" only applies to fields of type file');
      } else {
        if (f.identifier || f['full-name'] || f.consent) error([...fp, 'type'], 'a file cannot be an identifier, a name or a consent');
        if (!f.accept)
          warn(
            [...fp, 'type'],
            'say which kinds of file this field takes with "accept" (pdf, jpeg, png, webp, heic, docx, odt); without it, pdf, jpeg and png',
          );
      }
      const issuer = f['issued-by'];
      if (issuer !== undefined) {
        if (!f.identifier || identifierRule(r, f.identifier).scope !== 'issuer') {
          error([...fp, 'issued-by'], `"issued-by" only applies to an identifier scoped by its issuer (declare it under identifiers: with "scope: issuer")`);
        } else if (!Object.hasOwn(c.fields, issuer) || issuer === fk) {
          error([...fp, 'issued-by'], `"${issuer}" is not another field of this form`);
        }
      } else if (f.identifier && identifierRule(r, f.identifier).scope === 'issuer') {
        warn(
          [...fp, 'identifier'],
          `a ${f.identifier} is unique only within whoever issued it: name the field that says who with "issued-by", or it is never used to find the person`,
        );
      }
    }
    c['one-of'].forEach((group, gi) => {
      group.forEach((name, i) => {
        if (!Object.hasOwn(c.fields, name)) error([...at, 'one-of', gi, i], `"${name}" is not a field of this form`);
        else if (c.fields[name]!.required) warn([...at, 'one-of', gi, i], `"${name}" is required anyway, so the group asks for nothing more`);
      });
    });
    if (Object.keys(c.fields).length === 0) error([...at, 'fields'], 'a collection point must declare at least one field');
    if (Object.values(c.fields).filter((f) => f['full-name']).length > 1)
      error([...at, 'fields'], 'at most one field of a collection point can be the full-name');
    if (Object.values(c.fields).filter((f) => f['birth-date']).length > 1)
      error([...at, 'fields'], 'at most one field of a collection point can be the birth-date');
    const untilAge = validPurposes.filter((p) => r.purposes[p]!.retention['until-age']);
    if (untilAge.length > 0 && !Object.values(c.fields).some((f) => f['birth-date']) && Object.values(c.fields).some((f) => f.type === 'date')) {
      warn(
        [...at, 'fields'],
        `${untilAge.join(', ')} keep${untilAge.length === 1 ? 's' : ''} data until an age: mark the date-of-birth field with "birth-date: true" so the date can be worked out`,
      );
    }
    for (const p of validPurposes) {
      if (r.purposes[p]!.basis === 'consent' && !Object.values(c.fields).some((f) => f.consent === p)) {
        warn([...at, 'purposes'], `"${p}" is based on consent, but this form has no checkbox giving it (add a boolean field with "consent: ${p}")`);
      }
    }
    const subjectInPurposes = validPurposes.some((p) => r.purposes[p]!.subjects.includes(c.subject));
    if (validPurposes.length > 0 && !subjectInPurposes) {
      warn([...at, 'subject'], `none of this point's purposes lists "${c.subject}" under "subjects"`);
    }
  }
}
