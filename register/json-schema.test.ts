import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { registerJsonSchema } from './json-schema.ts';

test('register.schema.json is generated from the current schema (run npm run schema after changing it)', () => {
  const committed = readFileSync(new URL('../register.schema.json', import.meta.url), 'utf8');
  assert.equal(committed, registerJsonSchema());
});

test('the JSON Schema describes the register for editors: required sections, enums, duration pattern', () => {
  const schema = JSON.parse(registerJsonSchema()) as {
    required: string[];
    properties: Record<string, { additionalProperties?: { properties?: Record<string, unknown> } }>;
  };
  assert.ok(['custodian', 'controller', 'purposes', 'subjects', 'data'].every((k) => schema.required.includes(k)));
  const purpose = schema.properties.purposes!.additionalProperties!.properties!;
  assert.deepEqual((purpose.basis as { enum: string[] }).enum, [
    'consent',
    'contract',
    'legal-obligation',
    'vital-interests',
    'public-task',
    'legitimate-interests',
  ]);
  assert.match(JSON.stringify(purpose.retention), /\^P/);
});
