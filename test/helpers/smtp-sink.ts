// A real SMTP server on an ephemeral local port for the mail tests (smtp-server): no STARTTLS, optional AUTH,
// keeping every message it accepts as raw text with its envelope, or refusing recipients with a chosen reply code.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly envelopeFrom: string;
  readonly envelopeTo: string[];
  readonly raw: string;
}

export interface SmtpSink {
  readonly port: number;
  /** An smtp:// URL for the mailer, plaintext (`tls=off`), with these credentials when given. */
  url(credentials?: string): string;
  readonly received: ReceivedMail[];
  /** User names and passwords the server was given. */
  readonly logins: { username: string; password: string }[];
  /** Refuse every recipient with this SMTP reply code (null: accept). */
  refuseRecipients(code: number | null): void;
  close(): Promise<void>;
}

export async function smtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const logins: { username: string; password: string }[] = [];
  let refuse: number | null = null;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, done) {
      logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
      done(null, { user: auth.username });
    },
    onRcptTo(_address, _session, done) {
      if (refuse === null) return done();
      const err = Object.assign(new Error('Mailbox unavailable'), { responseCode: refuse });
      return done(err);
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        received.push({
          envelopeFrom: from ? from.address : '',
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: (credentials) => `smtp://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}?tls=off`,
    received,
    logins,
    refuseRecipients(code) {
      refuse = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The header lines of a raw message, unfolded, by lower-case name (the first of each). */
export function headersOf(raw: string): Map<string, string> {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const out = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (colon > 0 && !out.has(name)) out.set(name, line.slice(colon + 1).trim());
  }
  return out;
}

/** The decoded body part of a message with this content type (the message itself when it is not multipart), lines ending in \n. */
export function partOf(raw: string, type: 'text/plain' | 'text/html'): string | undefined {
  return decodedPart(raw, type)?.replace(/\r\n/g, '\n');
}

function decodedPart(raw: string, type: string): string | undefined {
  const headers = headersOf(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const parts = boundary ? raw.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const part of parts) {
    const text = part.replace(/^\r\n/, '');
    const h = headersOf(text);
    if (!(h.get('content-type') ?? 'text/plain').startsWith(type)) continue;
    const body = text.slice(text.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
    const encoding = (h.get('content-transfer-encoding') ?? '7bit').toLowerCase();
    if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
    if (encoding === 'quoted-printable') {
      const text = body.replace(/=\r\n/g, '');
      const bytes: number[] = [];
      for (let i = 0; i < text.length; i++) {
        const hex = text.slice(i + 1, i + 3);
        if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
          bytes.push(Number.parseInt(hex, 16));
          i += 2;
        } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
      }
      return Buffer.from(bytes).toString('utf8');
    }
    return body;
  }
  return undefined;
}
