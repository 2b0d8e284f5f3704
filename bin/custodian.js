#!/usr/bin/env node
// Entry point for `npx custodian`. The CLI is TypeScript run natively, which needs Node 24 (pinned as a dev dependency).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`custodian needs Node.js 24 or later (this is ${process.version}); run it through npm scripts or npx, which use the pinned Node 24.`);
  process.exit(1);
}
await import('../cli/main.ts');
