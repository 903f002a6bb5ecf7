// A worker thread does not inherit the tsx loader of its parent (Node 20), so the thread starts
// here, registers it, and then loads the TypeScript entry point.
import { register } from 'tsx/esm/api';

register();
await import('./worker-thread.ts');
