// Direct transmission of portable data to another controller (Art. 20(2)): staff post the person's portability
// export to the HTTPS endpoint the person names. Only https, never to this machine or a private network (checked on
// the address actually connected to, so a name that resolves to one is refused too); the attempt is audited either
// way, and a delivered export leaves an 'exported' decision per record with where it went, as the request's evidence.
import { lookup as dnsLookup } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { buildAccessAnswer } from './access-answer.ts';
import type { FulfilDeps } from './fulfil.ts';
import { buildPortabilityExport, portabilityFhir } from './portability.ts';
import { type Decision, getRequest, insertDecisions, updateRequest } from './requests-store.ts';

export interface TransmitOptions {
  /** Tests only: allow an endpoint on this machine or a private network (a local https server). */
  readonly allowPrivateAddresses?: boolean;
  /** Certificates to trust besides the system's (tests: the local server's own). */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const refusedAddress = () => new CustodianError('bad_request', 'the endpoint must be a public address, not this machine or a private network');

/** Resolves as usual, then refuses any address that is not public: the check holds for the address used. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as { address: string; family: number }[];
    if (list.length === 0 || !list.every((a) => isPublicAddress(a.address))) return callback(refusedAddress(), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
};

/** The endpoint, checked: https, no credentials in it, not a private address written as one. */
function endpointOf(url: string, options: TransmitOptions): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CustodianError('bad_request', 'the endpoint is not a URL');
  }
  if (parsed.protocol !== 'https:') throw new CustodianError('bad_request', 'the endpoint must be https');
  if (parsed.username || parsed.password) throw new CustodianError('bad_request', 'the endpoint must not carry credentials');
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivateAddresses && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && !isPublicAddress(host))))
    throw refusedAddress();
  return parsed;
}

function post(endpoint: URL, body: string, options: TransmitOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      endpoint,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: options.timeoutMs ?? 15_000,
        ...(options.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup }),
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends the portability export of a verified portability request to another controller's endpoint. */
export async function transmitPortability(
  deps: FulfilDeps,
  id: string,
  input: { url: string; actor: string },
  options: TransmitOptions = {},
): Promise<{ to: string; records: number }> {
  if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
  const row = await getRequest(deps.db.kysely, id.toLowerCase());
  if (!row) throw new CustodianError('not_found', 'no such request');
  if (row.type !== 'portability') throw new CustodianError('conflict', `this is a ${row.type} request`);
  if (row.status !== 'open' && row.status !== 'completed') throw new CustodianError('conflict', `this request is ${row.status}`);
  const endpoint = endpointOf(input.url, options);
  // Once answered, what was decided then; before, what is held now.
  const answer = await buildAccessAnswer(deps, row.id, { actor: input.actor, onlyDecided: row.status === 'completed' });
  const exp = await buildPortabilityExport(deps, answer);
  if (exp.records.length === 0) throw new CustodianError('conflict', 'nothing held about this person is portable: there is nothing to transmit');
  const body = JSON.stringify({ portability: exp, fhir: exp.clinical.included > 0 ? portabilityFhir(deps.register, exp) : null });
  const to = `${endpoint.origin}${endpoint.pathname}`;
  const audit = (detail: Record<string, string | number | boolean>) =>
    deps.db.kysely.transaction().execute(async (trx) => {
      if (detail.delivered) {
        const bySubject = new Map<string, Decision[]>();
        for (const r of exp.records)
          bySubject.set(r.subjectId, [...(bySubject.get(r.subjectId) ?? []), { recordId: r.id, action: 'exported', reason: `transmitted-to:${to}` }]);
        for (const [subjectId, decisions] of bySubject)
          await insertDecisions(trx, deps.auditor, { requestId: row.id, subjectId, decisions, actor: input.actor, now: deps.clock.now() });
      }
      await updateRequest(trx, deps.auditor, row.id, {}, { action: 'request.transmit', actor: input.actor, detail: { to: endpoint.host, ...detail } });
    });
  let status: number;
  try {
    status = await post(endpoint, body, options);
  } catch (e) {
    if (e instanceof CustodianError) throw e;
    await audit({ delivered: false, records: exp.records.length });
    throw new CustodianError('transmission_failed', `the endpoint at ${endpoint.origin} could not be reached (${(e as Error).message})`);
  }
  if (status < 200 || status >= 300) {
    await audit({ delivered: false, records: exp.records.length, status });
    throw new CustodianError('transmission_failed', `the endpoint at ${endpoint.origin} refused the data (${status})`);
  }
  await audit({ delivered: true, records: exp.records.length, status });
  return { to, records: exp.records.length };
}
