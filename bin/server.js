#!/usr/bin/env node
// `mailup-import-server` and `npm start`: the service (src/main.ts) as compiled into dist/, built
// first when a source is newer than the last build (scripts/build.mjs).
import { ensureBuilt } from '../scripts/build.mjs';

ensureBuilt();
await import('../dist/src/main.js');
