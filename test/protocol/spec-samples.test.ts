/**
 * The result strings against MailUp's documented samples (spec §4, §6.2, §13), for requests
 * written the three ways real clients write them: the documentation's `ws:` prefixes with
 * `encType`, the classic ASP include's unprefixed default namespace, and PHP SoapClient's `ns1:`.
 * Results are read with saxes and compared element by element; the raw SOAP text is checked for
 * the escaping .NET produces, which string-splitting clients depend on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/core/passwords.ts';
import type { Group, MailingList } from '../../src/model/records.ts';
import { postSoap, soapEnvelope, startTestService, type SoapAuth, type SoapParams, type TestAccount, type TestService } from '../helpers/service.ts';
import { el, elements, parseXml, soapResultText, textOf, type XmlNode } from './xml-tree.ts';

type Version = '1.1' | '1.2';
type Style = 'documentation (ws:)' | 'ASP (default namespace)' | 'PHP SoapClient (ns1:)';
const STYLES: Style[] = ['documentation (ws:)', 'ASP (default namespace)', 'PHP SoapClient (ns1:)'];
const VERSIONS: Version[] = ['1.1', '1.2'];
const NS = 'http://ws.mailupnet.it/';
const ENVELOPE_NS: Record<Version, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A request envelope in one of the client styles. */
function envelope(style: Style, op: string, params: SoapParams, auth: SoapAuth, version: Version): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null);
  const authFields = Object.entries(auth);
  if (style === 'documentation (ws:)') return soapEnvelope(op, params, auth, version);
  if (style === 'ASP (default namespace)') {
    return '<?xml version="1.0" encoding="utf-8"?>\r\n' +
      `<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="${ENVELOPE_NS[version]}">\r\n` +
      `  <soap:Header>\r\n    <Authentication xmlns="${NS}">${authFields.map(([k, v]) => `<${k}>${xmlText(String(v))}</${k}>`).join('')}</Authentication>\r\n  </soap:Header>\r\n` +
      `  <soap:Body>\r\n    <${op} xmlns="${NS}">${entries.map(([k, v]) => `\r\n      <${k}>${xmlText(String(v))}</${k}>`).join('')}\r\n    </${op}>\r\n  </soap:Body>\r\n</soap:Envelope>`;
  }
  const env = version === '1.1' ? 'SOAP-ENV' : 'env';
  const body = entries.length === 0 ? `<ns1:${op}/>` : `<ns1:${op}>${entries.map(([k, v]) => `<ns1:${k}>${xmlText(String(v))}</ns1:${k}>`).join('')}</ns1:${op}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${env}:Envelope xmlns:${env}="${ENVELOPE_NS[version]}" xmlns:ns1="${NS}">` +
    `<${env}:Header><ns1:Authentication>${authFields.map(([k, v]) => `<ns1:${k}>${xmlText(String(v))}</ns1:${k}>`).join('')}</ns1:Authentication></${env}:Header>` +
    `<${env}:Body>${body}</${env}:Body></${env}:Envelope>\n`;
}

/** The headers each client sends: the ASP include's SOAPAction has no quotes. */
function headers(style: Style, op: string, version: Version): Record<string, string> {
  const action = `${NS}${op}`;
  if (version === '1.2') return { 'content-type': `application/soap+xml; charset=utf-8; action="${action}"` };
  return { 'content-type': 'text/xml; charset=utf-8', soapaction: style === 'ASP (default namespace)' ? action : `"${action}"` };
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  /** The raw SOAP text. */
  readonly raw: string;
  /** The `<OpResult>` text as a SOAP client decodes it: the mailupMessage document. */
  readonly result: string;
}

async function call(style: Style, op: string, params: SoapParams, auth: SoapAuth, version: Version): Promise<Answer> {
  const reply = await postSoap(svc.endpoint, envelope(style, op, params, auth, version), headers(style, op, version));
  assert.equal(reply.status, 200, reply.body);
  const result = soapResultText(reply.body, op);
  assert.notEqual(result, null, reply.body);
  return { status: reply.status, contentType: reply.contentType, raw: reply.body, result: result! };
}

const DECLARATION = '<?xml version="1.0" encoding="windows-1252" ?>';

/** Parses a result string and checks the parts every result shares (spec §4). */
function mailupBody(result: string): XmlNode[] {
  assert.ok(result.startsWith(`${DECLARATION}<mailupMessage><mailupBody><ReturnCode>`), result);
  assert.match(result, /^[\x20-\x7e]*$/, 'the result document is pure printable ASCII');
  const doc = parseXml(result);
  assert.deepEqual(doc.declaration, { version: '1.0', encoding: 'windows-1252', standalone: undefined });
  assert.equal(doc.root.name, 'mailupMessage');
  const [body, ...rest] = elements(doc.root);
  assert.equal(rest.length, 0);
  assert.equal(body!.name, 'mailupBody');
  const children = elements(body!);
  assert.equal(children[0]!.name, 'ReturnCode');
  assert.equal(body!.children.length, children.length, 'no stray text in mailupBody');
  return children;
}

const returnCodeOf = (result: string): number => Number(textOf(mailupBody(result)[0]!));

/** What a client that splits the raw SOAP text on `ReturnCode&gt;` (the ASP include) reads. */
const aspReturnCode = (raw: string): string => raw.split('ReturnCode&gt;')[1]!.split('&lt;')[0]!;

let svc: TestService;
let acc: TestAccount;
let auth: SoapAuth;
let news: MailingList;
let empty: MailingList;
let odd: MailingList;
let sampleGroups: Group[];
let oddGroups: Group[];

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount({ listName: 'News' });
  auth = { User: acc.user, Password: acc.password, encType: 'UTF-8' };
  const store = svc.service.store;
  news = acc.list;
  // The groups of the documentation's GetNlLists sample, after the two the harness creates.
  sampleGroups = [...acc.groups];
  for (const name of ['MY FIRST IMPORT', 'Preferred Customers']) sampleGroups.push((await store.lists.createGroup(news.id, name)).group);
  empty = await store.lists.createList(acc.account.id, 'Company News Subscribers');
  odd = await store.lists.createList(acc.account.id, 'Città € & "Soci" <VIP>');
  oddGroups = [
    (await store.lists.createGroup(odd.id, 'Tom & Jerry "TJ" <b>')).group,
    (await store.lists.createGroup(odd.id, '😀 smile')).group,
  ];
});
after(() => svc.close());

/** The expected GetNlLists payload, written out by hand from the documented sample. */
function expectedLists(): XmlNode {
  const list = (l: MailingList, groups: Group[]): XmlNode =>
    el('List', { idList: l.id, listGUID: l.guid, listName: l.name },
      el('Groups', {}, ...groups.map((g) => el('Group', { idGroup: g.id, groupName: g.name }))));
  return el('Lists', {}, list(news, sampleGroups), list(empty, []), list(odd, oddGroups));
}

describe('GetNlLists (spec §6.2)', () => {
  for (const version of VERSIONS) {
    for (const style of STYLES) {
      test(`${style}, SOAP ${version}: lists and groups element by element`, async () => {
        const answer = await call(style, 'GetNlLists', {}, auth, version);
        assert.equal(answer.contentType, version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
        const [code, lists, ...rest] = mailupBody(answer.result);
        assert.deepEqual(code, el('ReturnCode', {}, 0));
        assert.deepEqual(lists, expectedLists());
        assert.equal(rest.length, 0);
      });
    }
  }

  test('the result string is exactly the documented layout, with names escaped and non-ASCII as references', async () => {
    const { result } = await call('documentation (ws:)', 'GetNlLists', {}, auth, '1.1');
    const g = sampleGroups;
    assert.equal(result,
      '<?xml version="1.0" encoding="windows-1252" ?><mailupMessage><mailupBody><ReturnCode>0</ReturnCode><Lists>' +
      `<List idList="${news.id}" listGUID="${news.guid}" listName="News"><Groups>` +
      `<Group idGroup="${g[0]!.id}" groupName="Group A" /><Group idGroup="${g[1]!.id}" groupName="Group B" />` +
      `<Group idGroup="${g[2]!.id}" groupName="MY FIRST IMPORT" /><Group idGroup="${g[3]!.id}" groupName="Preferred Customers" />` +
      '</Groups></List>' +
      `<List idList="${empty.id}" listGUID="${empty.guid}" listName="Company News Subscribers"><Groups></Groups></List>` +
      `<List idList="${odd.id}" listGUID="${odd.guid}" listName="Citt&#224; &#8364; &amp; &quot;Soci&quot; &lt;VIP&gt;"><Groups>` +
      `<Group idGroup="${oddGroups[0]!.id}" groupName="Tom &amp; Jerry &quot;TJ&quot; &lt;b&gt;" />` +
      `<Group idGroup="${oddGroups[1]!.id}" groupName="&#128512; smile" />` +
      '</Groups></List></Lists></mailupBody></mailupMessage>');
  });

  test('the raw SOAP text escapes as .NET does: &lt; &gt; &amp;, quotes left alone', async () => {
    const { raw } = await call('ASP (default namespace)', 'GetNlLists', {}, auth, '1.1');
    const text = /<GetNlListsResult>([\s\S]*)<\/GetNlListsResult>/.exec(raw)![1]!;
    assert.doesNotMatch(text, /[<>]/, 'no raw markup characters inside the result element');
    assert.ok(!text.includes('&quot;'), 'quotes are not escaped in text');
    assert.ok(text.startsWith('&lt;?xml version="1.0" encoding="windows-1252" ?&gt;&lt;mailupMessage&gt;&lt;mailupBody&gt;&lt;ReturnCode&gt;0&lt;/ReturnCode&gt;&lt;Lists&gt;'), text);
    assert.ok(text.includes(`&lt;List idList="${odd.id}" listGUID="${odd.guid}" listName="Citt&amp;#224; &amp;#8364; &amp;amp; &amp;quot;Soci&amp;quot; &amp;lt;VIP&amp;gt;"&gt;`), text);
    assert.ok(text.includes('&lt;Groups&gt;&lt;/Groups&gt;'), 'a list without groups still has <Groups>');
    assert.equal(aspReturnCode(raw), '0');
    // What the ASP include does next: split on mailupMessage&gt; and replace only &lt; and &gt;.
    const inner = raw.split('mailupMessage&gt;')[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    assert.match(inner, /^<mailupBody><ReturnCode>0<\/ReturnCode><Lists><List idList="\d+"/);
  });
});

describe('CreateGroup (spec §13)', () => {
  const groupsOf = async (listId: number): Promise<Group[]> => svc.service.store.lists.getGroups(listId);

  for (const version of VERSIONS) {
    for (const style of STYLES) {
      test(`${style}, SOAP ${version}: the new group's id is the ReturnCode`, async () => {
        const name = `Resellers ${style.slice(0, 3)} ${version}`;
        const answer = await call(style, 'CreateGroup', { idList: news.id, listGUID: news.guid, newGroupName: name }, auth, version);
        const children = mailupBody(answer.result);
        assert.equal(children.length, 1, 'CreateGroup answers a bare ReturnCode');
        const id = returnCodeOf(answer.result);
        assert.ok(id > 0);
        assert.equal(aspReturnCode(answer.raw), String(id));
        const created = (await groupsOf(news.id)).find((g) => g.id === id);
        assert.equal(created?.name, name);
      });
    }
  }

  test('a duplicate name, also in another case, returns the existing id and creates nothing', async () => {
    const first = returnCodeOf((await call('documentation (ws:)', 'CreateGroup', { idList: news.id, listGUID: news.guid, newGroupName: 'Change your email' }, auth, '1.1')).result);
    const before = await groupsOf(news.id);
    for (const name of ['Change your email', 'CHANGE YOUR EMAIL', 'change Your Email']) {
      for (const version of VERSIONS) {
        const again = await call('PHP SoapClient (ns1:)', 'CreateGroup', { idList: news.id, listGUID: news.guid, newGroupName: name }, auth, version);
        assert.equal(returnCodeOf(again.result), first, name);
      }
    }
    assert.deepEqual(await groupsOf(news.id), before);
  });

  test('case is ignored beyond ASCII too, accents are not', async () => {
    const create = async (name: string): Promise<number> =>
      returnCodeOf((await call('documentation (ws:)', 'CreateGroup', { idList: news.id, listGUID: news.guid, newGroupName: name }, auth, '1.1')).result);
    const accented = await create('Città Soci');
    assert.equal(await create('CITTÀ SOCI'), accented);
    assert.equal(await create('città soci'), accented);
    const plain = await create('Citta Soci');
    assert.notEqual(plain, accented, 'a name without the accent is another group');
    assert.equal(await create('CITTA SOCI'), plain);
  });

  test('names over 50 characters are truncated to 50', async () => {
    const long = `Subscribed using a social networks account ${'x'.repeat(30)}`;
    const id = returnCodeOf((await call('documentation (ws:)', 'CreateGroup', { idList: news.id, listGUID: news.guid, newGroupName: long }, auth, '1.1')).result);
    const stored = (await groupsOf(news.id)).find((g) => g.id === id)!;
    assert.equal(stored.name, long.slice(0, 50));
    // The truncated name is the group's name: asking for it again finds the same group.
    const again = await call('documentation (ws:)', 'CreateGroup', { idList: news.id, listGUID: news.guid, newGroupName: long.slice(0, 50) }, auth, '1.2');
    assert.equal(returnCodeOf(again.result), id);
  });

  test('truncation never splits a character: the result stays valid XML', async () => {
    // 49 ASCII characters, then characters outside the BMP (two UTF-16 units each).
    const name = `${'a'.repeat(49)}${'😀'.repeat(5)}`;
    const id = returnCodeOf((await call('documentation (ws:)', 'CreateGroup', { idList: odd.id, listGUID: odd.guid, newGroupName: name }, auth, '1.1')).result);
    assert.ok(id > 0);
    const lists = await call('documentation (ws:)', 'GetNlLists', {}, auth, '1.1');
    const [, listsNode] = mailupBody(lists.result);
    const group = elements(elements(elements(listsNode!).find((l) => l.attrs.idList === String(odd.id))!)[0]!)
      .find((g) => g.attrs.idGroup === String(id))!;
    assert.equal(group.attrs.groupName, `${'a'.repeat(49)}😀`);
    assert.ok(lists.result.includes(`groupName="${'a'.repeat(49)}&#128512;"`));
  });

  test('a name with markup characters and non-ASCII is stored as sent', async () => {
    const name = 'Città € <Soci & "Amici">';
    const id = returnCodeOf((await call('ASP (default namespace)', 'CreateGroup', { idList: empty.id, listGUID: empty.guid, newGroupName: name }, auth, '1.1')).result);
    assert.equal((await groupsOf(empty.id)).find((g) => g.id === id)?.name, name);
    const lists = await call('ASP (default namespace)', 'GetNlLists', {}, auth, '1.1');
    assert.ok(lists.result.includes(`<Group idGroup="${id}" groupName="Citt&#224; &#8364; &lt;Soci &amp; &quot;Amici&quot;&gt;" />`), lists.result);
  });

  for (const [label, params, code] of [
    ['an empty name', { newGroupName: '' }, -302],
    ['a white-space name', { newGroupName: '  \t ' }, -302],
    ['no name at all', {}, -302],
    ['idList 0', { idList: 0, newGroupName: 'Nowhere' }, -301],
  ] as const) {
    test(`${label} answers ${code} and creates nothing`, async () => {
      const before = await svc.service.store.lists.listLists(acc.account.id);
      for (const version of VERSIONS) {
        const answer = await call('documentation (ws:)', 'CreateGroup', { idList: news.id, listGUID: news.guid, ...params }, auth, version);
        assert.deepEqual(mailupBody(answer.result), [el('ReturnCode', {}, code)]);
        assert.equal(aspReturnCode(answer.raw), String(code));
      }
      assert.deepEqual(await svc.service.store.lists.listLists(acc.account.id), before);
    });
  }
});

describe('GetIdWsUser, GetIdUser, GetNlListsUser (DESIGN.md: the mailupMessage family)', () => {
  for (const version of VERSIONS) {
    for (const style of STYLES) {
      test(`${style}, SOAP ${version}: GetIdWsUser answers the account's id in <IdUser>`, async () => {
        const { result } = await call(style, 'GetIdWsUser', {}, auth, version);
        assert.deepEqual(mailupBody(result), [el('ReturnCode', {}, 0), el('IdUser', {}, acc.account.id)]);
        assert.equal(result, `${DECLARATION}<mailupMessage><mailupBody><ReturnCode>0</ReturnCode><IdUser>${acc.account.id}</IdUser></mailupBody></mailupMessage>`);
      });
    }
  }

  test('GetIdUser answers a console user\'s id; an unknown or missing name answers -200', async () => {
    const store = svc.service.store;
    const hash = await hashPassword('console-secret');
    const mario = await store.accounts.createConsoleUser(acc.account.id, 'mario.rossi', hash, null);
    const anna = await store.accounts.createConsoleUser(acc.account.id, 'anna', hash, [empty.id]);
    for (const style of STYLES) {
      for (const version of VERSIONS) {
        for (const user of [mario, anna]) {
          const { result } = await call(style, 'GetIdUser', { userName: user.username }, auth, version);
          assert.deepEqual(mailupBody(result), [el('ReturnCode', {}, 0), el('IdUser', {}, user.id)]);
        }
        for (const params of [{ userName: 'nobody' }, { userName: '' }, {}]) {
          const { result } = await call(style, 'GetIdUser', params, auth, version);
          assert.deepEqual(mailupBody(result), [el('ReturnCode', {}, -200)], JSON.stringify(params));
        }
      }
    }
  });

  test('a console user of another account is not found', async () => {
    const other = await svc.addAccount();
    const user = await svc.service.store.accounts.createConsoleUser(other.account.id, 'luigi', await hashPassword('x'), null);
    const byName = await call('documentation (ws:)', 'GetIdUser', { userName: 'luigi' }, auth, '1.1');
    assert.deepEqual(mailupBody(byName.result), [el('ReturnCode', {}, -200)]);
    const byId = await call('documentation (ws:)', 'GetNlListsUser', { userId: user.id }, auth, '1.1');
    assert.deepEqual(mailupBody(byId.result), [el('ReturnCode', {}, -200)]);
  });

  test('GetNlListsUser answers like GetNlLists, restricted to the lists the console user may see', async () => {
    const store = svc.service.store;
    const hash = await hashPassword('console-secret');
    const all = await store.accounts.createConsoleUser(acc.account.id, 'all-lists', hash, null);
    const two = await store.accounts.createConsoleUser(acc.account.id, 'two-lists', hash, [odd.id, empty.id]);
    const none = await store.accounts.createConsoleUser(acc.account.id, 'no-lists', hash, []);
    for (const style of STYLES) {
      for (const version of VERSIONS) {
        const full = await call(style, 'GetNlLists', {}, auth, version);
        const forAll = await call(style, 'GetNlListsUser', { userId: all.id }, auth, version);
        assert.equal(forAll.result, full.result, 'a user who may see every list sees what GetNlLists shows');

        const [code, lists] = mailupBody((await call(style, 'GetNlListsUser', { userId: two.id }, auth, version)).result);
        assert.deepEqual(code, el('ReturnCode', {}, 0));
        const fullLists = elements(mailupBody(full.result)[1]!);
        assert.deepEqual(lists, el('Lists', {}, ...fullLists.filter((l) => [String(empty.id), String(odd.id)].includes(l.attrs.idList!))));

        const nothing = mailupBody((await call(style, 'GetNlListsUser', { userId: none.id }, auth, version)).result);
        assert.deepEqual(nothing, [el('ReturnCode', {}, 0), el('Lists')]);

        for (const params of [{ userId: 999999 }, {}]) {
          const unknown = await call(style, 'GetNlListsUser', params, auth, version);
          assert.deepEqual(mailupBody(unknown.result), [el('ReturnCode', {}, -200)]);
        }
      }
    }
  });
});
