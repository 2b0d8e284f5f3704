// The register's JSON Schema, generated from the zod schema, for editor completion and validation of YAML files.
import { z } from 'zod';
import { RegisterSchema } from './schema.ts';

export function registerJsonSchema(): string {
  const schema = z.toJSONSchema(RegisterSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return `${JSON.stringify({ ...schema, $id: 'https://custodian.example/register.schema.json', title: 'Custodian privacy register' }, null, 2)}\n`;
}

if (import.meta.main) process.stdout.write(registerJsonSchema());
