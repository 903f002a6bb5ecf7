// The probe of the hostile-input suites (see whileProbing in hostile-client.ts): on "start" it
// calls GetNlLists again and again, on its own connections, until "stop". It runs in its own
// thread so that its timings measure the server, not the test's event loop, which is busy
// generating hostile bodies. Plain JavaScript: a worker thread does not inherit the tsx loader
// (Node 20), and this needs nothing from the project.
import { parentPort } from 'node:worker_threads';

let stopping = false;

async function probe({ endpoint, body, headers, timeoutMs, intervalMs }) {
  stopping = false;
  do {
    const started = performance.now();
    try {
      const res = await fetch(endpoint, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
      const answer = await res.text();
      parentPort.postMessage({ status: res.status, answer, ms: performance.now() - started, at: Date.now() });
    } catch (err) {
      parentPort.postMessage({ error: `GetNlLists was not answered within ${timeoutMs} ms (${err?.message ?? err})` });
      break;
    }
    if (!stopping) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  } while (!stopping);
  parentPort.postMessage({ done: true });
}

parentPort.on('message', (message) => {
  if (message === 'stop') stopping = true;
  else void probe(message);
});
