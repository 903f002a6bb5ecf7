#!/usr/bin/env node
// `mailup-import-admin`: the admin CLI (src/cli/admin.ts), run through tsx since the project has no build step.
import { register } from 'tsx/esm/api';

register();
const { runAdmin } = await import('../src/cli/admin.ts');
process.exitCode = await runAdmin(process.argv.slice(2));
