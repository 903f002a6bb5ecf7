/**
 * The REST API's lists, groups and dynamic fields over real HTTP, on the store TEST_STORE names
 * (npm test runs it on both): MailUp's shapes and paging envelope (with the page arithmetic
 * mailupy does), filterby/orderby and their 400s, groups created, renamed and deleted through the
 * same core as SOAP, another account's resources (404), out-of-scope resources (404 with MailUp's
 * body), bad bodies of every kind (nothing changes), paths and parameter names in any case, and
 * the rate limit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { callRest, login, restClientOf, assertMailUpError, REST_BASE, type RestAnswer } from '../helpers/rest.ts';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let a: TestAccount;
let b: TestAccount;
let token: string;
let otherToken: string;

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount({ listName: 'Alpha news' });
  b = await svc.addAccount({ listName: 'Beta news' });
  token = (await login(svc, a, await restClientOf(svc, a))).access_token;
  otherToken = (await login(svc, b, await restClientOf(svc, b))).access_token;
});
after(() => svc.close());

interface Envelope<T> {
  IsPaginated: boolean;
  Items: T[];
  PageNumber: number;
  PageSize: number;
  Skipped: number;
  TotalElementsCount: number;
}

interface Group {
  Count: null;
  Deletable: boolean;
  Name: string;
  Notes: string;
  idGroup: number;
  idList: number;
}

const get = <T>(path: string, t = token): Promise<RestAnswer<T>> => callRest<T>(svc, t, 'GET', path);

/** Every item of a collection, read page by page as mailupy's _download_all_pages reads it. */
async function allPagesAsMailupy<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  for (let current = 0; ; current++) {
    const page = await get<Envelope<T>>(`${path}${path.includes('?') ? '&' : '?'}pageNumber=${current}`);
    assert.equal(page.status, 200, page.text);
    const total = Math.floor(page.body.TotalElementsCount / page.body.PageSize);
    items.push(...page.body.Items);
    if (total - current === 0) return items;
  }
}

async function groupsOf(listId: number): Promise<Group[]> {
  return (await get<Envelope<Group>>(`/List/${listId}/Groups?pageSize=1000`)).body.Items;
}

describe('lists', () => {
  test("User/Lists: the account's lists in MailUp's shape and envelope, never another account's", async () => {
    const second = await svc.service.store.lists.createList(a.account.id, 'Alpha offers');
    const answer = await get<Envelope<Record<string, unknown>>>('/User/Lists');
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(answer.body, {
      IsPaginated: false,
      Items: [
        { Company: '', Description: '', Name: 'Alpha news', idList: a.list.id, listGuid: a.list.guid },
        { Company: '', Description: '', Name: 'Alpha offers', idList: second.id, listGuid: second.guid },
      ],
      PageNumber: 0, PageSize: 20, Skipped: 0, TotalElementsCount: 2,
    });
    assert.deepEqual(Object.keys(answer.body), ['IsPaginated', 'Items', 'PageNumber', 'PageSize', 'Skipped', 'TotalElementsCount']);
    const filtered = await get<Envelope<{ Name: string }>>(`/User/Lists?filterby="Name.Contains('offers')"`);
    assert.deepEqual(filtered.body.Items.map((l) => l.Name), ['Alpha offers']);
    assert.equal(filtered.body.TotalElementsCount, 1);
    assert.deepEqual((await get<Envelope<{ Name: string }>>('/User/Lists?orderby=idList desc')).body.Items.map((l) => l.Name), ['Alpha offers', 'Alpha news']);
    assert.deepEqual((await get<Envelope<{ Name: string }>>('/User/Lists', otherToken)).body.Items.map((l) => l.Name), ['Beta news']);
  });

  test('List: the same lists as Console/List spells them', async () => {
    const answer = await get<Envelope<Record<string, unknown>>>('/List');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.Items[0], { Company: '', Description: '', IdList: a.list.id, ListGuid: a.list.guid, Name: 'Alpha news' });
    assert.equal((await get<Envelope<unknown>>(`/List?filterby=IdList==${a.list.id}`)).body.TotalElementsCount, 1);
  });

  test('paths and parameter names in any case; unknown query parameters are ignored', async () => {
    assert.equal((await get('/user/lists')).status, 200);
    const res = await fetch(`${svc.url}${REST_BASE.toLowerCase()}/CONSOLE/User/LISTS?PAGESIZE=1&Foo=bar`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal((await res.json() as Envelope<unknown>).PageSize, 1);
    const filtered = await get<Envelope<unknown>>(`/User/Lists?FilterBy=idList==${a.list.id}&OrderBy=Name%20asc&unknown=1`);
    assert.equal(filtered.body.TotalElementsCount, 1);
  });
});

describe('paging', () => {
  test('the envelope of every page: PageSize as asked (never 0), Skipped, IsPaginated whenever the whole takes more than one page', async () => {
    const list = await svc.service.store.lists.createList(a.account.id, 'Many groups');
    for (let i = 1; i <= 47; i++) await svc.service.store.lists.createGroup(list.id, `G${String(i).padStart(2, '0')}`);
    const page = async (query: string): Promise<Envelope<Group>> => {
      const answer = await get<Envelope<Group>>(`/List/${list.id}/Groups${query}`);
      assert.equal(answer.status, 200, answer.text);
      return answer.body;
    };
    const shape = (e: Envelope<Group>) => [e.IsPaginated, e.Items.length, e.PageNumber, e.PageSize, e.Skipped, e.TotalElementsCount];
    assert.deepEqual(shape(await page('')), [true, 20, 0, 20, 0, 47], 'default: 20 per page');
    assert.deepEqual((await page('')).Items.map((g) => g.Name).slice(0, 2), ['G01', 'G02']);
    assert.deepEqual(shape(await page('?pageNumber=1')), [true, 20, 1, 20, 20, 47]);
    assert.deepEqual(shape(await page('?pageNumber=2')), [true, 7, 2, 20, 40, 47], 'the last page: more than one page in all');
    assert.deepEqual((await page('?pageNumber=2')).Items.map((g) => g.Name)[6], 'G47');
    assert.deepEqual(shape(await page('?pageNumber=3')), [true, 0, 3, 20, 60, 47], 'past the end: no items, PageSize still 20');
    assert.deepEqual(shape(await page('?PageSize=47')), [false, 47, 0, 47, 0, 47], 'one page holds them all');
    assert.deepEqual(shape(await page('?pagesize=10&PAGENUMBER=4')), [true, 7, 4, 10, 40, 47]);
    assert.deepEqual(shape(await page('?pageSize=1000')), [false, 47, 0, 1000, 0, 47]);
    assert.deepEqual(shape(await page("?filterby=Name=='none'")), [false, 0, 0, 20, 0, 0], 'an empty result keeps PageSize 20');
    // mailupy counts pages as TotalElementsCount // PageSize and reads one more: every group, once.
    const read = await allPagesAsMailupy<Group>(`/List/${list.id}/Groups`);
    assert.deepEqual(read.map((g) => g.Name), Array.from({ length: 47 }, (_, i) => `G${String(i + 1).padStart(2, '0')}`));
    assert.equal((await allPagesAsMailupy<Group>(`/List/${list.id}/Groups?pageSize=47`)).length, 47);
  });

  test('a page size outside 1 to 1000, or a page number that is not a whole number, is a 400 naming it', async () => {
    for (const query of ['pageSize=0', 'pageSize=1001', 'pageSize=-1', 'pageSize=abc', 'pageSize=2.5', 'pageNumber=-1', 'PageNumber=x', 'pageSize=10&PageSize=20']) {
      const answer = await get(`/User/Lists?${query}`);
      assertMailUpError(answer, 400, /page(Size|Number)/i);
    }
    assert.match(((await get('/User/Lists?pageSize=5000')).body as { ErrorDescription: string }).ErrorDescription, /pageSize must be a whole number from 1 to 1000, not "5000"/);
  });
});

describe('dynamic fields', () => {
  test('ids 1 to 39 with descriptions, 20 per page', async () => {
    const first = await get<Envelope<{ Description: string; Id: number }>>('/Recipient/DynamicFields');
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.IsPaginated, first.body.Items.length, first.body.PageSize, first.body.TotalElementsCount], [true, 20, 20, 39]);
    assert.deepEqual(first.body.Items.slice(0, 2), [{ Description: 'nome', Id: 1 }, { Description: 'cognome', Id: 2 }]);
    assert.deepEqual(Object.keys(first.body.Items[0]!), ['Description', 'Id']);
    const all = await allPagesAsMailupy<{ Description: string; Id: number }>('/Recipient/DynamicFields');
    assert.deepEqual(all.map((f) => f.Id), Array.from({ length: 39 }, (_, i) => i + 1));
    assert.equal(new Set(all.map((f) => f.Description)).size, 39, 'descriptions are distinct (clients map them to ids)');
    assert.equal(all[38]!.Description, 'campo39');
    assert.deepEqual((await get<Envelope<unknown>>("/Recipient/DynamicFields?filterby=Description=='cognome'")).body.Items, [{ Description: 'cognome', Id: 2 }]);
    assert.deepEqual((await get<Envelope<{ Id: number }>>('/Recipient/DynamicFields?orderby=Id desc&pageSize=2')).body.Items.map((f) => f.Id), [39, 38]);
  });
});

describe('filterby and orderby', () => {
  test('anything outside the subset is a 400 naming the part not understood; nothing is guessed', async () => {
    const cases: [string, RegExp][] = [
      ["filterby=Name=='x' or Name=='y'", /filterby: expected "and" or the end of the filter at position 11/],
      ["filterby=Colour=='red'", /filterby: unknown field "Colour"/],
      ["filterby=Name.StartsWith('x')", /StartsWith/],
      ["filterby=Name=='x", /never ends/],
      ["filterby=idGroup=='3'", /idGroup is a number/],
      ['orderby=Name sideways', /orderby: "sideways" is not asc or desc/],
      ['orderby=Colour asc', /orderby: unknown field "Colour"/],
      ["filterby=Name=='a'&FILTERBY=Name=='b'", /filterby is given 2 times/],
    ];
    for (const [query, message] of cases) assertMailUpError(await get(`/List/${a.list.id}/Groups?${query}`), 400, message);
  });

  test('groups by name, notes, id, in several orders', async () => {
    const list = await svc.service.store.lists.createList(a.account.id, 'Filtered');
    for (const [name, notes] of [['Customers', 'paying'], ['Prospects', ''], ['Old customers', 'paying']]) {
      await callRest(svc, token, 'POST', `/List/${list.id}/Group`, { Name: name, Notes: notes });
    }
    const names = async (query: string): Promise<string[]> => (await get<Envelope<Group>>(`/List/${list.id}/Groups?${query}`)).body.Items.map((g) => g.Name);
    assert.deepEqual(await names("filterby=Name.Contains('ustomers')"), ['Customers', 'Old customers']);
    assert.deepEqual(await names("filterby=Name.Contains('customers')"), ['Old customers'], 'case-sensitive');
    assert.deepEqual(await names("filterby=\"Notes=='paying' and Name.Contains('Old')\""), ['Old customers']);
    assert.deepEqual(await names('orderby=Notes desc;Name asc'), ['Customers', 'Old customers', 'Prospects']);
    assert.deepEqual(await names('filterby=Deletable==true&orderby=idGroup desc'), ['Old customers', 'Prospects', 'Customers']);
  });
});

describe('groups', () => {
  test('POST List/{id}/Group makes the group SOAP sees; a name the list has (in any case) gives back that group', async () => {
    const created = await callRest<Group>(svc, token, 'POST', `/List/${a.list.id}/Group`, { Name: '  Città Übersee  ', Notes: 'from REST', Deletable: true });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(Object.keys(created.body), ['Count', 'Deletable', 'Name', 'Notes', 'idGroup', 'idList']);
    assert.deepEqual({ ...created.body, idGroup: 0 }, { Count: null, Deletable: true, Name: 'Città Übersee', Notes: 'from REST', idGroup: 0, idList: a.list.id });
    const soap = await callSoap(svc.endpoint, 'GetNlLists', {}, { User: a.user, Password: a.password });
    assert.match(soap.result!, new RegExp(`<Group idGroup="${created.body.idGroup}" groupName="Citt&#224; &#220;bersee" />`));
    const again = await callRest<Group>(svc, token, 'POST', `/List/${a.list.id}/Group`, { Name: 'CITTÀ ÜBERSEE', Notes: 'ignored' });
    assert.deepEqual(again.body, created.body, 'the existing group, notes and all');
    const viaSoap = await callSoap(svc.endpoint, 'CreateGroup', { idList: a.list.id, listGUID: a.list.guid, newGroupName: 'città übersee' }, { User: a.user, Password: a.password });
    assert.equal(viaSoap.returnCode, created.body.idGroup, 'CreateGroup finds the group REST made');
    const long = await callRest<Group>(svc, token, 'POST', `/List/${a.list.id}/Group`, { Name: 'x'.repeat(60), Deletable: false });
    assert.equal(long.body.Name, 'x'.repeat(50), 'cut to 50 characters as CreateGroup cuts it');
    assert.equal(long.body.Notes, '');
    const minimal = await callRest<Group>(svc, token, 'POST', `/List/${a.list.id}/Group`, { name: 'lower-case members' });
    assert.equal(minimal.body.Name, 'lower-case members', 'member names in any case');
    const sentBack = await callRest<Group>(svc, token, 'POST', `/List/${a.list.id}/Group`, { ...created.body, Name: 'Sent back', idGroup: 999 });
    assert.equal(sentBack.status, 200, 'read-only members are accepted and ignored');
    assert.notEqual(sentBack.body.idGroup, 999);
  });

  test('PUT renames and changes notes through the core; a name another group has is a 400', async () => {
    const list = await svc.service.store.lists.createList(a.account.id, 'Renames');
    const mk = async (name: string): Promise<Group> => (await callRest<Group>(svc, token, 'POST', `/List/${list.id}/Group`, { Name: name })).body;
    const [vip, staff] = [await mk('VIP'), await mk('Staff')];
    const renamed = await callRest<Group>(svc, token, 'PUT', `/List/${list.id}/Group/${vip.idGroup}`, { Name: ' V.I.P. ', Notes: 'best' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(renamed.body, { ...vip, Name: 'V.I.P.', Notes: 'best' });
    assert.deepEqual((await callRest<Group>(svc, token, 'PUT', `/List/${list.id}/Group/${vip.idGroup}`, { Notes: '' })).body, { ...vip, Name: 'V.I.P.', Notes: '' });
    assert.deepEqual((await callRest<Group>(svc, token, 'PUT', `/List/${list.id}/Group/${staff.idGroup}`, { Name: 'STAFF' })).body.Name, 'STAFF', 'its own name in another case');
    assertMailUpError(await callRest(svc, token, 'PUT', `/List/${list.id}/Group/${staff.idGroup}`, { Name: 'v.i.p.', Notes: 'not kept' }), 400, /already named "v.i.p."/);
    assertMailUpError(await callRest(svc, token, 'PUT', `/List/${list.id}/Group/${staff.idGroup}`, { Name: '   ' }), 400, /Name is empty/);
    assertMailUpError(await callRest(svc, token, 'PUT', `/List/${list.id}/Group/${staff.idGroup}`, {}), 400, /Nothing to change/);
    assertMailUpError(await callRest(svc, token, 'PUT', `/List/${a.list.id}/Group/${staff.idGroup}`, { Name: 'Moved' }), 404, /does not exist in list/);
    assert.deepEqual((await groupsOf(list.id)).map((g) => [g.Name, g.Notes]), [['V.I.P.', ''], ['STAFF', '']], 'refused changes changed nothing');
  });

  test('DELETE removes a group and its memberships, not its recipients; refused while an unfinished import names it', async () => {
    const list = await svc.service.store.lists.createList(a.account.id, 'Deletions');
    const [gone, kept] = [(await svc.service.store.lists.createGroup(list.id, 'Gone')).group, (await svc.service.store.lists.createGroup(list.id, 'Kept')).group];
    const auth = { User: a.user, Password: a.password };
    const started = await callSoap(svc.endpoint, 'StartImportProcesses', {
      listsIDs: list.id, listsGUIDs: list.guid, groupsIDs: `${gone.id},${kept.id}`, xmlDoc: feedXml([{ email: 'anna@example.com' }, { email: 'ben@example.com' }]),
      importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
    }, auth);
    assert.equal(started.returnCode, 0, started.body);
    await waitForProcess(svc.endpoint, auth, list.id, list.guid, Number(/<processID>(\d+)/.exec(started.result!)![1]));

    const prepared = await callSoap(svc.endpoint, 'NewImportProcess', {
      idList: list.id, listGUID: list.guid, xmlDoc: feedXml([{ email: 'carl@example.com' }]), idGroups: String(kept.id), importType: 3, mobileInputType: 1,
      asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
    }, auth);
    assert.ok(prepared.returnCode! > 0, prepared.body);
    assertMailUpError(await callRest(svc, token, 'DELETE', `/List/${list.id}/Group/${kept.id}`), 400, /named by an import that has not finished/);

    // As mailupy sends it: a JSON Content-Type and no body.
    const deleted = await callRest(svc, token, 'DELETE', `/List/${list.id}/Group/${gone.id}`, undefined, { 'content-type': 'application/json' });
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.text, '');
    assert.deepEqual((await groupsOf(list.id)).map((g) => g.Name), ['Kept']);
    const members = await svc.db.query<{ group_id: number }>('SELECT group_id FROM membership m JOIN recipient r ON r.id = m.recipient_id WHERE r.account_id = ? ORDER BY group_id', [a.account.id]);
    assert.ok(members.every((m) => Number(m.group_id) !== gone.id), 'no membership of the deleted group is left');
    assert.equal(members.filter((m) => Number(m.group_id) === kept.id).length, 2);
    const subscribed = await svc.db.query<{ n: number }>("SELECT count(*) AS n FROM subscription_channel WHERE list_id = ? AND status = 'subscribed'", [list.id]);
    assert.equal(Number(subscribed[0]!.n), 2, 'the recipients stay on the list');
    assertMailUpError(await callRest(svc, token, 'DELETE', `/List/${list.id}/Group/${gone.id}`), 404);
  });

  test('bad bodies get a 400 naming what is wrong, and create nothing', async () => {
    const list = await svc.service.store.lists.createList(a.account.id, 'Bad bodies');
    const post = (body: unknown, headers: Record<string, string> = {}) => callRest(svc, token, 'POST', `/List/${list.id}/Group`, body, headers);
    const cases: [unknown, number, RegExp][] = [
      ['{"Name": "x",', 400, /not valid JSON/],
      ['', 400, /body is empty/],
      ['[{"Name":"x"}]', 400, /JSON object, not an array/],
      ['"Name"', 400, /JSON object, not a string/],
      ['null', 400, /body is empty/],
      [{ Notes: 'no name' }, 400, /Name is missing/],
      [{ Name: 12 }, 400, /Name must be a string, not a number/],
      [{ Name: '' }, 400, /Name is empty/],
      [{ Name: 'Tab\u0001' }, 400, /control characters/],
      [{ Name: 'x', Deletable: 'yes' }, 400, /Deletable must be true or false/],
      [{ Name: 'x', Notes: 'n'.repeat(1001) }, 400, /at most 1000 characters/],
      [{ Name: 'x', Nmae: 'typo' }, 400, /Unknown member "Nmae"/],
      [{ Name: 'x', name: 'twice' }, 400, /given twice/],
    ];
    for (const [body, status, message] of cases) assertMailUpError(await post(body), status, message);
    assertMailUpError(await post('<group><Name>x</Name></group>', { 'content-type': 'application/xml' }), 415, /JSON/);
    assertMailUpError(await callRest(svc, token, 'GET', '/User/Lists', undefined, { accept: 'application/xml' }), 406, /JSON only/);
    assert.equal((await callRest(svc, token, 'GET', '/User/Lists', undefined, { accept: 'application/json, text/xml' })).status, 200);
    assert.equal((await post({ Name: 'Plain text type' }, { 'content-type': 'text/plain' })).status, 200, 'JSON whatever the Content-Type says');
    assert.deepEqual((await groupsOf(list.id)).map((g) => g.Name), ['Plain text type'], 'only the good body made a group');
  });

  test('10 MB of garbage: 413 with MailUp\'s body, also with a valid token; nothing changes and the server answers on', async () => {
    const list = await svc.service.store.lists.createList(a.account.id, 'Garbage');
    const garbage = Buffer.alloc(10 * 1024 * 1024, 'x{[');
    assertMailUpError(await callRest(svc, token, 'POST', `/List/${list.id}/Group`, garbage), 413, /larger than 1024 KB/);
    assertMailUpError(await callRest(svc, 'wrong', 'POST', `/List/${list.id}/Group`, garbage), 401);
    // Chunked, without a Content-Length: the cap is counted as it arrives.
    const chunked = await fetch(`${svc.url}${REST_BASE}/Console/List/${list.id}/Group`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x7b));
          controller.close();
        },
      }),
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.deepEqual(await groupsOf(list.id), []);
    assert.equal((await get('/User/Lists')).status, 200);
  });
});

describe('what is not this account\'s, or not built', () => {
  test("another account's list or group is 404, as an unknown one; nothing changes", async () => {
    const theirs = b.groups[0]!;
    const cases: [string, string, unknown?][] = [
      ['GET', `/List/${b.list.id}/Groups`],
      ['POST', `/List/${b.list.id}/Group`, { Name: 'Intruder' }],
      ['PUT', `/List/${b.list.id}/Group/${theirs.id}`, { Name: 'Stolen' }],
      ['DELETE', `/List/${b.list.id}/Group/${theirs.id}`],
      ['PUT', `/List/${a.list.id}/Group/${theirs.id}`, { Name: 'Stolen' }],
      ['DELETE', `/List/${a.list.id}/Group/${theirs.id}`],
      ['GET', '/List/987654/Groups'],
      ['GET', '/List/abc/Groups'],
      ['DELETE', `/List/${a.list.id}/Group/0`],
    ];
    for (const [method, path, body] of cases) assertMailUpError(await callRest(svc, token, method, path, body), 404, /does not exist|is not an id/);
    assert.equal((await get(`/List/${b.list.id}/Groups`)).status, 404);
    assert.deepEqual((await callRest<Envelope<Group>>(svc, otherToken, 'GET', `/List/${b.list.id}/Groups`)).body.Items.map((g) => g.Name), ['Group A', 'Group B']);
  });

  test('messages, campaigns, SMS, statistics and anything unknown: 404 with MailUp\'s body', async () => {
    for (const [method, path] of [
      ['GET', `/List/${a.list.id}/Emails`], ['POST', '/Email/Send'], ['GET', `/List/${a.list.id}/Email/1/Sendings`], ['GET', '/Sms/Send'],
      ['GET', '/Statistics/List/1'], ['POST', '/List'], ['GET', '/Nothing'], ['PATCH', '/User/Lists'],
    ] as const) {
      const answer = await callRest(svc, token, method, path, method === 'GET' ? undefined : {});
      assertMailUpError(answer, 404, /No resource at/);
      assert.equal((answer.body as { ErrorName: string }).ErrorName, 'NotFound');
    }
    const outside = await fetch(`${svc.url}${REST_BASE}/Other/Thing`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(outside.status, 404);
    assert.equal(((await outside.json()) as { ErrorCode: string }).ErrorCode, '404');
  });
});

describe('the rate limit', () => {
  test("far beyond the limit: 429 with MailUp's wording and Retry-After; other accounts are not held up", async () => {
    const limited = await startTestService({ REST_MAX_CALLS_PER_SECOND: '5' });
    try {
      const x = await limited.addAccount();
      const y = await limited.addAccount();
      const [tx, ty] = [(await login(limited, x, await restClientOf(limited, x))).access_token, (await login(limited, y, await restClientOf(limited, y))).access_token];
      const answers = await Promise.all(Array.from({ length: 30 }, () => callRest(limited, tx, 'GET', '/User/Lists')));
      const refused = answers.filter((r) => r.status === 429);
      // 5 at once, then one more per 200 ms while the 30 arrive: most are refused, however slowly they come in.
      assert.ok(refused.length >= 10, `${refused.length} of 30 refused`);
      assert.ok(answers.filter((r) => r.status === 200).length >= 1);
      assertMailUpError(refused[0]!, 429, /^Too many requests\. Max:5 calls per second , actual:\d+\.$/);
      assert.equal(refused[0]!.headers.get('retry-after'), '1');
      assert.equal((await callRest(limited, ty, 'GET', '/User/Lists')).status, 200, 'another account has its own count');
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await callRest(limited, tx, 'GET', '/User/Lists')).status, 200, 'a second later the account may call again');
    } finally {
      await limited.close();
    }
  });
});
