// Least-privilege database roles on PostgreSQL. Migrations run as an owner role, which owns every table; the service
// runs as a role that owns nothing, so it can neither alter a table, disable its triggers nor grant itself more. It
// may only read and add to the audit trail (events, checkpoints), the consent ledger and the reasons for retention
// overrides, move audit heads forward (the trigger refuses moving them back), and read and write the other tables as
// the application does.
import { CustodianError } from '../core/errors.ts';
import type { Db } from './connect.ts';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function id(name: string, what: string): string {
  if (!NAME.test(name)) throw new CustodianError('bad_request', `the ${what} name must be lower-case letters, digits and _ (at most 63)`);
  return `"${name}"`;
}

/** The tables the service only reads and adds to; and the audit heads, which it may also move forward. */
const APPEND_ONLY = ['audit_event', 'audit_checkpoint', 'consent_event', 'retention_override', 'marketing_suppression'];
const HEADS = 'audit_head';

/**
 * SQL an administrator runs once, as a superuser, to make the two roles (set their passwords separately): the owner
 * owns the schema Custodian's tables go in; the service owns only the schema its background jobs keep (pg-boss).
 */
export function rolesSql(o: { owner: string; service: string; database: string; schema: string; jobsSchema: string }): string {
  const [owner, service, schema, database] = [id(o.owner, 'owner role'), id(o.service, 'service role'), id(o.schema, 'schema'), id(o.database, 'database')];
  return [
    `CREATE ROLE ${owner} LOGIN;`,
    `CREATE ROLE ${service} LOGIN;`,
    `GRANT CONNECT ON DATABASE ${database} TO ${owner}, ${service};`,
    `CREATE SCHEMA IF NOT EXISTS ${schema};`,
    `ALTER SCHEMA ${schema} OWNER TO ${owner};`,
    `CREATE SCHEMA IF NOT EXISTS ${id(o.jobsSchema, 'jobs schema')} AUTHORIZATION ${service};`,
    `-- then, as ${o.owner}: custodian migrate --grant-to ${o.service}`,
  ].join('\n');
}

/**
 * What the service role may do in the schema the tables are in, granted by the owner after migrating (idempotent:
 * run again after every migration, `custodian migrate --grant-to`).
 */
export async function grantToService(db: Db, service: string): Promise<void> {
  const role = id(service, 'service role');
  await db.script(async (run) => {
    const [current] = await run('SELECT current_schema() AS schema');
    const s = id(String(current?.schema), 'schema');
    await run(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
    await run(`REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${role}`);
    await run(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`);
    await run(`REVOKE UPDATE, DELETE ON ${APPEND_ONLY.map((t) => `${s}.${t}`).join(', ')} FROM ${role}`);
    await run(`REVOKE DELETE ON ${s}.${HEADS} FROM ${role}`);
    await run(`REVOKE INSERT, UPDATE, DELETE ON ${s}.custodian_migration FROM ${role}`);
    await run(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`);
  });
}
