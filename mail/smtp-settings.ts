// The SMTP server mail goes through, from one URL (`--smtp-url`):
//   smtp://user:pass@host:587   submission with STARTTLS, required: a server that does not offer it (or a stripped
//                               offer on the way) fails the attempt instead of sending the message in clear
//   smtps://user:pass@host:465  TLS from the first byte
//   smtp://host:25?tls=off      no TLS at all: only for a relay on the same host or a private network
// User name and password are percent-decoded. The password is never printed: `redacted` stands in for the URL.
import { CustodianError } from '../core/errors.ts';

export interface SmtpSettings {
  readonly url: string;
  /** The From address; default: the register's controller email (else its DPO's). */
  readonly from?: string;
}

interface SmtpTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly ignoreTLS: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly connectionTimeout: number;
  readonly greetingTimeout: number;
  readonly socketTimeout: number;
  readonly disableFileAccess: true;
  readonly disableUrlAccess: true;
}

export interface ParsedSmtpUrl {
  readonly transport: SmtpTransportOptions;
  /** The URL with its password replaced, and how the connection is protected: for start-up lines. */
  readonly redacted: string;
}

export function parseSmtpUrl(text: string): ParsedSmtpUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('the SMTP URL is not a URL (write smtp://user:password@host:587 or smtps://user:password@host:465)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw invalid(`the SMTP URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  if (!url.hostname) throw invalid('the SMTP URL names no host');
  if (url.pathname !== '' && url.pathname !== '/') throw invalid('the SMTP URL has a path; SMTP takes none');
  for (const key of url.searchParams.keys()) if (key !== 'tls') throw invalid(`the SMTP URL has an unknown option "${key.slice(0, 20)}" (only tls=off)`);
  const tls = url.searchParams.get('tls');
  if (tls !== null && tls !== 'off') throw invalid('the SMTP URL option tls takes only "off"');
  const secure = url.protocol === 'smtps:';
  if (secure && tls === 'off') throw invalid('smtps:// is TLS from the start; tls=off contradicts it');
  const plain = tls === 'off';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const user = decode(url.username);
  const pass = decode(url.password);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const shown = `${url.protocol}//${user ? `${encodeURIComponent(user)}${pass ? ':***' : ''}@` : ''}${url.host}${url.port ? '' : `:${port}`}`;
  return {
    transport: {
      host,
      port,
      secure,
      requireTLS: !secure && !plain,
      ignoreTLS: plain,
      ...(user ? { auth: { user, pass } } : {}),
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
      disableFileAccess: true,
      disableUrlAccess: true,
    },
    redacted: `${shown} (${secure ? 'TLS' : plain ? 'no TLS' : 'STARTTLS required'})`,
  };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid('the SMTP URL has a badly percent-encoded user name or password');
  }
}

function invalid(message: string): CustodianError {
  return new CustodianError('mail_config_invalid', message);
}
