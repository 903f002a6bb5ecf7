import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from './metrics.ts';

test('renders counters, histograms and gauges in the Prometheus text format', async () => {
  const registry = new Registry();
  const calls = registry.register(new Counter('ws_calls_total', 'Calls.'));
  const latency = registry.register(new Histogram('ws_latency_seconds', 'Latency.', [0.1, 1]));
  registry.register(new Gauge('imports', 'Imports.', async () => [{ labels: { status: 3 }, value: 2 }]));
  calls.inc({ operation: 'GetNlLists', return_code: 0 });
  calls.inc({ return_code: 0, operation: 'GetNlLists' });
  calls.inc({ operation: 'Say "hi"\n', return_code: -1002 });
  latency.observe({ operation: 'GetNlLists' }, 0.05);
  latency.observe({ operation: 'GetNlLists' }, 0.5);
  assert.equal(await registry.render(), [
    '# HELP ws_calls_total Calls.',
    '# TYPE ws_calls_total counter',
    'ws_calls_total{operation="GetNlLists",return_code="0"} 2',
    'ws_calls_total{operation="Say \\"hi\\"\\n",return_code="-1002"} 1',
    '# HELP ws_latency_seconds Latency.',
    '# TYPE ws_latency_seconds histogram',
    'ws_latency_seconds_bucket{operation="GetNlLists",le="0.1"} 1',
    'ws_latency_seconds_bucket{operation="GetNlLists",le="1"} 2',
    'ws_latency_seconds_bucket{operation="GetNlLists",le="+Inf"} 2',
    'ws_latency_seconds_sum{operation="GetNlLists"} 0.55',
    'ws_latency_seconds_count{operation="GetNlLists"} 2',
    '# HELP imports Imports.',
    '# TYPE imports gauge',
    'imports{status="3"} 2',
    '',
  ].join('\n'));
});
