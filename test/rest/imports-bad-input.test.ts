/**
 * Bad input to the REST bulk import and its status calls, over real HTTP on both stores: every
 * malformed body gets a 400 naming the element and the fault, and leaves nothing behind (no feed,
 * no chunk, no process); limits (rows, bytes) are named; another account's list, group or import
 * is a 404; a missing token a 401.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { assertMailUpError, callRest, login, restClientOf, REST_BASE } from '../helpers/rest.ts';
import { bulkImport, waitForImport } from './import-helpers.ts';

let svc: TestService;
let acc: TestAccount;
let other: TestAccount;
let token: string;
let otherToken: string;

before(async () => {
  svc = await startTestService({ MAX_REST_IMPORT_ROWS: '7000', BODY_LIMIT: '4mb' });
  acc = await svc.addAccount();
  other = await svc.addAccount();
  token = (await login(svc, acc, await restClientOf(svc, acc))).access_token;
  otherToken = (await login(svc, other, await restClientOf(svc, other))).access_token;
});
after(() => svc.close());

/** What an import leaves in the store: feeds, their chunks and processes. */
async function stored(): Promise<{ feeds: number; chunks: number; processes: number; recipients: number }> {
  const count = async (table: string): Promise<number> => Number((await svc.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
  return { feeds: await count('feed'), chunks: await count('feed_chunk'), processes: await count('import_process'), recipients: await count('recipient') };
}

/** POSTs `body` and expects MailUp's error body with `status`, and nothing stored. */
async function refused(path: string, body: string | Uint8Array, status: number, description: RegExp, headers: Record<string, string> = {}): Promise<void> {
  const before = await stored();
  const answer = await callRest(svc, token, 'POST', path, body, headers);
  assertMailUpError(answer, status, description);
  assert.deepEqual(await stored(), before, `nothing stored after ${description}`);
}

const listPath = (): string => `/List/${acc.list.id}/Recipients`;

describe('malformed bodies: 400 naming what is wrong, nothing stored', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"Email": "a@b.it"', /must be a JSON array of recipients.*starts with an object/],
    ['garbage', 'hello', /must be a JSON array.*starts with the character 'h'/],
    ['an object at the top', '{"Email":"a@b.it"}', /must be a JSON array of recipients/],
    ['a non-object element', '[{"Email":"a@b.it"},"b@c.it"]', /Element 1 of the array is a string, not a recipient object/],
    ['invalid JSON inside an element', '[{"Email":"a@b.it",}]', /Element 0 of the array is not valid JSON/],
    ['a member of the wrong type', '[{"Email":["a@b.it"]}]', /Element 0: Email must be a string or null, not an array/],
    ['an unknown member', '[{"Emial":"a@b.it"}]', /Element 0: unknown member "Emial"/],
    ['a field id out of range', '[{"Email":"a@b.it"},{"Email":"c@d.it","Fields":[{"Id":40,"Value":"x"}]}]', /Element 1: Fields\[0\]\.Id must be a whole number from 1 to 39, not the number 40/],
    ['a field value of 201 characters', JSON.stringify([{ Email: 'a@b.it', Fields: [{ Id: 3, Value: 'v'.repeat(201) }] }]), /Element 0: Fields\[0\]\.Value is 201 characters long; a field holds at most 200/],
    ['an empty array', '[]', /empty array: there is no recipient to import/],
    ['white space only', '  ', /The body is empty/],
    ['a body cut short', '[{"Email":"a@b.it"},{"Email":"c@', /ended inside element 1/],
    ['text after the array', '[{"Email":"a@b.it"}] []', /follows the end of the array/],
  ];
  for (const [name, body, message] of cases) {
    test(name, async () => refused(listPath(), body, 400, message));
  }

  test('an empty body, and a body sent without a Content-Type', async () => {
    await refused(listPath(), '', 400, /The body is empty/);
    const answer = await fetch(`${svc.url}${REST_BASE}/Console${listPath()}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}` }, body: new TextEncoder().encode('[{"Email":"no-type@example.com"}]'),
    });
    assert.equal(answer.status, 200, await answer.clone().text());
    await waitForImport(svc, token, Number(await answer.text()));
  });

  test('a fault after the first stored chunks: the partial feed is deleted', async () => {
    const rows = Array.from({ length: 6000 }, (_, i) => `{"Email":"chunked${i}@example.com"}`);
    rows.push('{"Email":5}');
    await refused(listPath(), `[${rows.join(',')}]`, 400, /Element 6000: Email must be a string or null, not the number 5/);
  });

  test('more recipients than MAX_REST_IMPORT_ROWS', async () => {
    const body = `[${Array.from({ length: 7001 }, (_, i) => `{"Email":"many${i}@example.com"}`).join(',')}]`;
    await refused(listPath(), body, 400, /more than 7000 recipients, the most one import takes/);
  });

  test('10 MB of garbage: 413 from Content-Length, 400 from the first bytes when streamed', async () => {
    const garbage = randomBytes(10 * 1024 * 1024);
    await refused(listPath(), garbage, 413, /larger than 4194304 bytes \(BODY_LIMIT\)/);
    // Without a Content-Length (chunked), the first bytes are refused and the rest drained.
    const before = await stored();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < garbage.length; i += 65536) controller.enqueue(garbage.subarray(i, i + 65536));
        controller.close();
      },
    });
    const answer = await fetch(`${svc.url}${REST_BASE}/Console${listPath()}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: stream, duplex: 'half',
    } as RequestInit);
    assert.equal(answer.status, 400);
    assert.match((await answer.json() as { ErrorDescription: string }).ErrorDescription, /must be a JSON array of recipients/);
    assert.deepEqual(await stored(), before);
  });

  test('a JSON body above BODY_LIMIT sent without a Content-Length: 413 once the cap is passed', async () => {
    const before = await stored();
    const element = `{"Email":"big@example.com","Name":"${'n'.repeat(4000)}"}`;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('['));
        for (let i = 0; i < 1200; i++) controller.enqueue(new TextEncoder().encode(`${i ? ',' : ''}${element}`));
        controller.enqueue(new TextEncoder().encode(']'));
        controller.close();
      },
    });
    const answer = await fetch(`${svc.url}${REST_BASE}/Console${listPath()}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}` }, body: stream, duplex: 'half',
    } as RequestInit);
    assert.equal(answer.status, 413, await answer.clone().text());
    assert.deepEqual(await stored(), before);
  });
});

describe('query parameters', () => {
  test('an unknown parameter, a bad importType, a bad boolean, removeFromPrevGroups on a list: 400, nothing stored', async () => {
    const body = '[{"Email":"q@example.com"}]';
    await refused(`${listPath()}?ConfirmEmial=true`, body, 400, /Unknown query parameter "ConfirmEmial"; a bulk import takes ConfirmEmail, importType/);
    await refused(`${listPath()}?importType=asPending`, body, 400, /importType must be asOptin or asOptout, not "asPending"/);
    await refused(`${listPath()}?ConfirmEmail=yes`, body, 400, /ConfirmEmail must be true or false, not "yes"/);
    await refused(`${listPath()}?removeFromPrevGroups=true`, body, 400, /removeFromPrevGroups applies to imports into a group/);
    await refused(`${listPath()}?ConfirmEmail=true&confirmemail=false`, body, 400, /ConfirmEmail is given 2 times/);
  });
});

describe('whose list, group, import', () => {
  test("another account's list or group, or an id that is none: 404, nothing stored", async () => {
    const body = '[{"Email":"theirs@example.com"}]';
    await refused(`/List/${other.list.id}/Recipients`, body, 404, new RegExp(`List ${other.list.id} does not exist in this account`));
    await refused(`/Group/${other.groups[0]!.id}/Recipients`, body, 404, /does not exist in this account/);
    await refused('/List/987654/Recipients', body, 404, /does not exist/);
    await refused('/List/abc/Recipients', body, 404, /is not an id of this account/);
  });

  test("another account's import: 404 on the status, the detail, the mailing and its sending", async () => {
    const id = await bulkImport(svc, token, `${listPath()}?ConfirmEmail=true`, [{ Email: 'mine@example.com' }]);
    await waitForImport(svc, token, id);
    for (const [method, path] of [['GET', `/Import/${id}`], ['GET', `/Imports/${id}`], ['GET', `/Import/${id}/Sending`], ['POST', `/Email/Sendings/${id}/Immediate`], ['POST', `/Email/Sendings/${id}/Deferred`]] as const) {
      assertMailUpError(await callRest(svc, otherToken, method, path), 404, new RegExp(`Import ${id} does not exist in this account`));
    }
    assertMailUpError(await callRest(svc, token, 'GET', '/Import/987654321'), 404, /does not exist/);
    assertMailUpError(await callRest(svc, token, 'GET', '/Import/x'), 404);
  });

  test('no token or a wrong one: 401 before the body is read; nothing stored', async () => {
    const before = await stored();
    assertMailUpError(await callRest(svc, null, 'POST', listPath(), [{ Email: 'anon@example.com' }]), 401);
    assertMailUpError(await callRest(svc, 'not-a-token', 'POST', listPath(), [{ Email: 'anon@example.com' }]), 401);
    assert.deepEqual(await stored(), before);
  });
});
