/**
 * The OpenAPI 3.1 document of the JSON API, as a client fetches it (without credentials): valid
 * against the OpenAPI 3.1 schema, listing every route with its parameters and answers, errors
 * included, and generated from the same schemas the routes check requests with.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestService, type TestService } from '../helpers/service.ts';

interface Operation { parameters?: { name: string; in: string }[]; responses: Record<string, unknown>; requestBody?: { content: Record<string, unknown> } }
interface Document { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { scheme: string }> } }

let svc: TestService;
let doc: Document;

before(async () => {
  svc = await startTestService();
  const res = await fetch(`${svc.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  doc = (await res.json()) as Document;
});
after(() => svc?.close());

test('the document validates as OpenAPI 3.1', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, '3.1');
});

test('every route of the API is in it, with its parameters, answers and errors', () => {
  const expected: [string, string, number[]][] = [
    ['/api/imports', 'get', [200, 400, 401, 403, 404, 429]],
    ['/api/imports/{idProcess}', 'get', [200, 400, 401, 404]],
    ['/api/imports/{idProcess}/rejects', 'get', [200, 400, 401, 404]],
    ['/api/imports/{idProcess}/cancel', 'post', [200, 400, 401, 404, 409]],
    ['/api/imports/{idProcess}/start', 'post', [200, 400, 401, 404, 409]],
    ['/api/feeds/validate', 'post', [200, 400, 401, 404]],
    ['/api/confirmations/send-now', 'post', [200, 400, 401, 404, 409]],
    ['/api/confirmations', 'get', [200, 400, 401]],
    ['/api/confirmations/outbox', 'get', [200, 400, 401]],
    ['/api/webhooks', 'post', [201, 400, 401, 409]],
    ['/api/webhooks', 'get', [200, 401]],
    ['/api/webhooks/{id}', 'delete', [204, 400, 401, 404]],
    ['/api/webhooks/{id}/deliveries', 'get', [200, 400, 401, 404]],
    ['/api/webhooks/{id}/deliveries/{deliveryId}/resend', 'post', [202, 400, 401, 404, 409]],
  ];
  for (const [path, method, statuses] of expected) {
    const operation = doc.paths[path]?.[method];
    assert.ok(operation, `${method.toUpperCase()} ${path} is missing`);
    for (const status of statuses) assert.ok(String(status) in operation.responses, `${method.toUpperCase()} ${path} has no ${status} answer`);
  }
  const names = (path: string, method: string): string[] => (doc.paths[path]![method]!.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();
  assert.deepEqual(names('/api/imports', 'get'), ['query:cursor', 'query:limit', 'query:list', 'query:status']);
  assert.deepEqual(names('/api/imports/{idProcess}/rejects', 'get'), ['path:idProcess', 'query:cursor', 'query:limit']);
  assert.deepEqual(names('/api/feeds/validate', 'post'), ['query:delimiter', 'query:importType', 'query:list', 'query:mobileInputType']);
  assert.deepEqual(Object.keys(doc.paths['/api/feeds/validate']!.post!.requestBody!.content).sort(), ['application/xml', 'text/csv', 'text/xml']);
  assert.equal(doc.components.securitySchemes.wsCredentials?.scheme, 'basic');
  assert.ok(!('/api/openapi.json' in doc.paths), 'the document does not list itself');
});
