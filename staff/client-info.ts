// The little we keep about where a session came from: a truncated address and a browser family, never the full
// IP or user-agent string (both identify a person more than the console needs).
import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 to its /24 (203.0.113.0), IPv6 to its /48 (2001:db8:1::); anything else to undefined. */
export function truncateIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped?.[1] ?? ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0`;
  if (!isIPv6(ip)) return undefined;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::`;
}

const FAMILIES: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/curl\//, 'curl'],
];

export function userAgentFamily(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown';
  return FAMILIES.find(([pattern]) => pattern.test(userAgent))?.[1] ?? 'other';
}
