// `custodian db roles`: the SQL that makes the least-privilege roles of a PostgreSQL deployment (db/roles.ts).
import { Command, Option } from 'commander';
import { rolesSql } from '../db/roles.ts';
import { toStdout } from './cli-context.ts';

const ROLES_HELP = `
Run the printed SQL once as a superuser (psql -f), set the two roles' passwords, then:
  DATABASE_URL=postgres://<owner>@host/db custodian migrate --grant-to <service>    (after every upgrade too)
  DATABASE_URL=postgres://<service>@host/db custodian serve ...
The service role owns no table: it cannot alter the audit tables, disable their triggers, truncate or delete from
them, nor grant itself more.`;

const rolesCommand = new Command('roles')
  .description('Print the SQL that creates an owner role (runs migrations) and a least-privilege service role (runs the service)')
  .addOption(new Option('--owner <role>', 'the role that owns the tables and runs migrations').default('custodian_owner'))
  .addOption(new Option('--service <role>', 'the role the service runs as').default('custodian_app'))
  .addOption(new Option('--database <name>', 'the database').default('custodian'))
  .addOption(new Option('--schema <name>', 'the schema the tables go in').default('public'))
  .addOption(new Option('--jobs-schema <name>', 'the schema background jobs keep their queue in').default('pgboss'))
  .addHelpText('after', ROLES_HELP)
  .action((opts: { owner: string; service: string; database: string; schema: string; jobsSchema: string }) => {
    toStdout(rolesSql(opts));
  });

export const dbCommand = new Command('db').description('Database set-up for PostgreSQL deployments').addCommand(rolesCommand);
