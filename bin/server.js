#!/usr/bin/env node
// `mailup-import-server`: the service (src/main.ts), run through tsx since the project has no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
