// `custodian requests add|show|list|verify|ask-identity|pause|resume|extend|link|complete`: rights requests from the
// command line, through the same service the API and console use (deadlines in the register's jurisdiction).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { listRequestViews } from '../requests/request-queue.ts';
import {
  askForIdentity,
  closeRequest,
  extendRequest,
  linkRequestSubject,
  pauseRequest,
  type RequestDeps,
  type RequestView,
  receiveRequest,
  recordVerification,
  resumeRequest,
  showRequest,
} from '../requests/request-service.ts';
import { OUTCOMES, REQUEST_CHANNELS, REQUEST_TYPES, type Outcome, type RequestChannel, type RequestType } from '../requests/tables.ts';
import { toStderr, toStdout, withContext, withDataOptions, type DataOptions } from './cli-context.ts';

export interface RequestsCommandDeps {
  /** Runs `fn` with the app context (default: the data folder or DATABASE_URL, with the register given). */
  readonly withRequestsContext?: <T>(opts: DataOptions, fn: (ctx: RequestDeps) => Promise<T>) => Promise<T>;
  readonly out?: (line: string) => void;
}

const ACTOR = 'system:cli';

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new InvalidArgumentError('write the date as YYYY-MM-DD');
  return value;
}

function describe(v: RequestView): string[] {
  const lines = [
    `request ${v.id}`,
    `  ${v.type}, ${v.status}, by ${v.channel}, received ${v.receivedOn} (${v.jurisdiction.toUpperCase()} rules)`,
    `  due ${v.dueAt}${v.flag === 'closed' ? '' : ` (${v.daysLeft < 0 ? `${-v.daysLeft} days overdue` : `${v.daysLeft} days left`}${v.awaitingIdentity ? '; waiting for proof of identity: the clock starts when it arrives' : ''})`}`,
  ];
  for (const p of v.pauses) lines.push(`  paused ${p.from} to ${p.to ?? 'now'}: ${p.justification}`);
  if (v.extension) lines.push(`  extended by ${v.extension.months} month(s), told ${v.extension.toldOn}: ${v.extension.reason}`);
  if (v.duplicateOf) lines.push(`  repeats request ${v.duplicateOf}`);
  if (v.verification) lines.push(`  identity: ${v.verification.method}${v.verification.seen ? ` (${v.verification.seen})` : ''}`);
  if (v.subjects.length > 0) lines.push(`  about: ${v.subjects.join(', ')}`);
  if (v.outcome) lines.push(`  outcome: ${v.outcome}${v.outcomeReasons.length > 0 ? ` (${v.outcomeReasons.join(', ')})` : ''}`);
  return lines;
}

export function buildRequestsCommand(deps: RequestsCommandDeps = {}): Command {
  const out = deps.out ?? toStdout;
  const withRequests =
    deps.withRequestsContext ??
    (<T>(opts: DataOptions, fn: (ctx: RequestDeps) => Promise<T>) =>
      withContext(opts, { createKey: true, log: toStderr }, (ctx) => {
        if (!ctx.register) throw new CustodianError('bad_request', 'give the register (--register FILE): deadlines follow its jurisdiction');
        return fn(ctx as AppContext);
      }));
  const print = (opts: { json?: boolean }, v: RequestView) => {
    if (opts.json) out(JSON.stringify(v));
    else for (const line of describe(v)) out(line);
  };
  const cmd = (name: string, description: string) => withDataOptions(new Command(name).description(description), 'required').option('--json', 'print JSON');

  const add = cmd('add', 'Record a request received by email, letter, phone or in person, and print its deadline')
    .addOption(new Option('--type <type>', REQUEST_TYPES.join(', ')).choices(REQUEST_TYPES).makeOptionMandatory())
    .addOption(new Option('--received <date>', 'the date it arrived, YYYY-MM-DD').argParser(isoDate).makeOptionMandatory())
    .option('--email <address>', 'where to answer')
    .option('--name <name>', 'who asks')
    .option('--details <text>', 'what they ask, in their words')
    .addOption(new Option('--channel <channel>', 'how it came').choices(REQUEST_CHANNELS).default('email'))
    .action(
      async (
        opts: DataOptions & { type: RequestType; received: string; email?: string; name?: string; details?: string; channel: RequestChannel; json?: boolean },
      ) => {
        const { request } = await withRequests(opts, (ctx) => {
          const now = ctx.clock.now();
          const noon = new Date(`${opts.received}T12:00:00Z`);
          return receiveRequest(ctx, {
            type: opts.type,
            channel: opts.channel,
            receivedAt: noon.getTime() > now.getTime() && opts.received <= now.toISOString().slice(0, 10) ? now : noon,
            email: opts.email ?? null,
            name: opts.name ?? null,
            details: opts.details ?? null,
            actor: ACTOR,
            needsConfirmation: false,
          });
        });
        print(opts, request);
      },
    );

  const show = cmd('show', 'Show one request')
    .argument('<id>')
    .action(async (id: string, opts: DataOptions & { json?: boolean }) => print(opts, await withRequests(opts, (ctx) => showRequest(ctx, id))));

  const list = cmd('list', 'Requests, soonest due first')
    .addOption(new Option('--status <which>', 'open, closed or all').choices(['open', 'closed', 'all']).default('open'))
    .action(async (opts: DataOptions & { status: 'open' | 'closed' | 'all'; json?: boolean }) => {
      const views = await withRequests(opts, (ctx) => listRequestViews(ctx, opts.status));
      if (opts.json) return out(JSON.stringify(views));
      if (views.length === 0) return out(`no ${opts.status === 'all' ? '' : `${opts.status} `}requests`);
      for (const v of views) out(`${v.dueAt}  ${v.flag.padEnd(8)} ${v.type.padEnd(16)} ${v.status.padEnd(11)} ${v.id}`);
    });

  const step = (
    name: string,
    description: string,
    build: (c: Command) => Command,
    run: (ctx: RequestDeps, id: string, opts: Record<string, unknown>) => Promise<RequestView>,
  ) =>
    build(cmd(name, description).argument('<id>')).action(async (id: string, opts: DataOptions & { json?: boolean }) =>
      print(opts, await withRequests(opts, (ctx) => run(ctx, id, opts as unknown as Record<string, unknown>))),
    );

  const verify = step(
    'verify',
    'Record how the requester’s identity was checked (what was seen, never a copy)',
    (c) =>
      c
        .addOption(new Option('--method <method>', 'how').choices(['document-seen', 'known-to-staff', 'call-back', 'signed-in']).makeOptionMandatory())
        .option('--seen <text>', 'what was seen (a passport, the last digits of a number...)')
        .addOption(new Option('--received-on <date>', 'the date the proof arrived (default today)').argParser(isoDate)),
    (ctx, id, o) =>
      recordVerification(ctx, id, {
        method: o.method as 'document-seen',
        seen: (o.seen as string | undefined) ?? null,
        actor: ACTOR,
        ...(o.receivedOn ? { receivedOn: o.receivedOn as string } : {}),
      }),
  );
  const askIdentity = step(
    'ask-identity',
    'Record that proof of identity was asked for (UK: the clock starts when it arrives)',
    (c) => c.addOption(new Option('--on <date>', 'when it was asked (default today)').argParser(isoDate)),
    (ctx, id, o) => askForIdentity(ctx, id, { actor: ACTOR, ...(o.on ? { askedOn: o.on as string } : {}) }),
  );
  const pause = step(
    'pause',
    'Pause the clock of a UK access request while a clarification is awaited',
    (c) =>
      c
        .requiredOption('--justification <text>', 'why the clarification is needed')
        .addOption(new Option('--from <date>', 'when it was asked for (default today)').argParser(isoDate)),
    (ctx, id, o) => pauseRequest(ctx, id, { justification: o.justification as string, actor: ACTOR, ...(o.from ? { from: o.from as string } : {}) }),
  );
  const resume = step(
    'resume',
    'The clarification arrived: restart the clock',
    (c) => c.addOption(new Option('--to <date>', 'when it arrived (default today)').argParser(isoDate)),
    (ctx, id, o) => resumeRequest(ctx, id, { actor: ACTOR, ...(o.to ? { to: o.to as string } : {}) }),
  );
  const extend = step(
    'extend',
    'Extend the deadline by 1 or 2 further months (the requester told within the first month)',
    (c) =>
      c
        .addOption(new Option('--months <n>', '1 or 2').choices(['1', '2']).makeOptionMandatory())
        .requiredOption('--reason <text>', 'the reasons the requester was told')
        .addOption(new Option('--told-on <date>', 'when the requester was told (default today)').argParser(isoDate)),
    (ctx, id, o) =>
      extendRequest(ctx, id, {
        months: Number(o.months) as 1 | 2,
        reason: o.reason as string,
        actor: ACTOR,
        ...(o.toldOn ? { toldOn: o.toldOn as string } : {}),
      }),
  );
  const link = step(
    'link',
    'Confirm a person (Custodian person id) the request is about',
    (c) => c.requiredOption('--subject <id>', 'the person id'),
    (ctx, id, o) => linkRequestSubject(ctx, id, { subjectId: o.subject as string, actor: ACTOR }),
  );
  const complete = step(
    'complete',
    'Close the request with its outcome (a refusal needs reason codes)',
    (c) =>
      c
        .addOption(new Option('--outcome <outcome>', OUTCOMES.join(', ')).choices(OUTCOMES).makeOptionMandatory())
        .option('--reason <code...>', 'reason codes (e.g. manifestly-unfounded)'),
    (ctx, id, o) => closeRequest(ctx, id, { outcome: o.outcome as Outcome, reasons: (o.reason as string[] | undefined) ?? [], actor: ACTOR }),
  );

  return new Command('requests')
    .description('Rights requests: record, follow and close them on the statutory clock')
    .showHelpAfterError()
    .addCommand(add)
    .addCommand(show)
    .addCommand(list)
    .addCommand(verify)
    .addCommand(askIdentity)
    .addCommand(pause)
    .addCommand(resume)
    .addCommand(extend)
    .addCommand(link)
    .addCommand(complete);
}

export const requestsCommand = buildRequestsCommand();
