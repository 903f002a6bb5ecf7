// The import thread's entry when the service runs from source (the tests, under tsx): a worker
// thread does not inherit the tsx loader of its parent (Node 20), so it registers it here and then
// loads the TypeScript module. The compiled service (dist/) starts the thread at worker-thread.js.
import { register } from 'tsx/esm/api';

register();
await import('./worker-thread.ts');
