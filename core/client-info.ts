// What the access log may know about a client: a truncated IP address and a browser family, nothing finer.
import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 to its /24, IPv6 to its /48; IPv4-mapped IPv6 is treated as IPv4. */
export function truncateIp(ip: string | undefined): string | null {
  if (!ip) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1]! : ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return null;
  const groups = expandIpv6(ip);
  return `${groups
    .slice(0, 3)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/48`;
}

function expandIpv6(ip: string): string[] {
  const clean = ip.split('%')[0]!;
  const [head = '', tail] = clean.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => g.toLowerCase() || '0');
}

const FAMILIES: [RegExp, string][] = [
  [/bot|crawler|spider|crawling|curl|wget|python-requests|httpclient|go-http/i, 'bot-or-tool'],
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

/** Browser family only: no version, no OS, no device (all of which add up to a fingerprint). */
export function browserFamily(userAgent: string | undefined): string | null {
  if (!userAgent) return null;
  for (const [re, family] of FAMILIES) if (re.test(userAgent)) return family;
  return 'other';
}
