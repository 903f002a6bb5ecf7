#!/usr/bin/env node
// `mailup-import-admin` and `npm run admin`: the admin CLI (src/cli/admin.ts) as compiled into
// dist/, built first when a source is newer than the last build (scripts/build.mjs).
import { ensureBuilt } from '../scripts/build.mjs';

ensureBuilt();
const { runAdmin } = await import('../dist/src/cli/admin.js');
process.exitCode = await runAdmin(process.argv.slice(2));
