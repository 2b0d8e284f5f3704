// Builds GET /consent.js: the banner's TypeScript (web/consent-client/banner.ts) bundled and minified by esbuild when
// first asked for, then kept in memory; the register's configuration goes in front of it. Nothing built is committed,
// so a clean clone needs only `npm install` (esbuild is a runtime dependency for this reason).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { BannerConfig } from './consent-config.ts';

const ENTRY = fileURLToPath(new URL('./consent-client/banner.ts', import.meta.url));

let client: Promise<string> | undefined;

/** The banner's code alone, bundled once per process. */
function bundleClient(): Promise<string> {
  client ??= (async () => {
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      entryPoints: [ENTRY],
      bundle: true,
      minify: true,
      format: 'iife',
      target: ['es2020'],
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    return out.outputFiles[0]!.text.trim();
  })();
  client.catch(() => {
    client = undefined;
  });
  return client;
}

export interface BannerScript {
  readonly body: string;
  /** The same, gzipped once (level 9), for browsers that take it. */
  readonly gzip: Buffer;
  readonly etag: string;
}

/** The script served: the configuration as CONFIG, then the banner, in one scope (no global but the banner's API). */
export async function bannerScript(config: BannerConfig): Promise<BannerScript> {
  // JSON in a script: "<" escaped so no text of the register can close a <script> it is inlined into.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const body = `(()=>{const CONFIG=${json};${await bundleClient()}})();\n`;
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}
