// A server for bench/consent-bench.ts, in a process of its own (as the peers run): `custodian` builds the real app on
// a PostgreSQL schema (migrated by the bench) with the German vendor's register; `noop` is a bare Fastify route that
// parses the JSON and answers 201, the ceiling of any Node HTTP route on this machine.
// Args: MODE PORT [SCHEMA]. Prints "ready" once listening.
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { createAppContext } from '../app/app-context.ts';
import { systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import { connect } from '../db/connect.ts';
import { buildApp } from '../http/app.ts';
import { loadRegisterFile } from '../register/load-register.ts';

const [mode, portText, schema] = process.argv.slice(2);
const port = Number(portText);
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

if (mode === 'noop') {
  const app = Fastify({ logger: false });
  app.post('/consent', async (_req, reply) => reply.code(201).send({ ok: true }));
  await app.listen({ port, host: '127.0.0.1' });
} else {
  const loaded = loadRegisterFile(new URL('../examples/image-information-systems/register.yaml', import.meta.url).pathname);
  if (!loaded.ok) throw new Error('the example register is not valid');
  const db = await connect({ url, schema, poolSize: 10 });
  const ctx = createAppContext({
    db,
    register: loaded.register,
    clock: systemClock,
    keyring: keyringOf([masterKey('bench-1', randomBytes(32))]),
    log: silentLogger,
  });
  const app = await buildApp(ctx, { logLevel: false });
  await app.listen({ port, host: '127.0.0.1' });
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => db.close())
      .then(() => process.exit(0));
  });
}
process.stdout.write('ready\n');
