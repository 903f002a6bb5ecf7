/**
 * Every call of MailUpRestClient against the real service over real HTTP: lists, groups and
 * fields; the streamed bulk import into a list or a group with its options, followed with
 * waitForImport, its counts checked against the same process read over SOAP and the store;
 * recipients by state walked page by page with filterby/orderby; single recipients added,
 * updated and unsubscribed; MailUp's error body carried by the errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import { restClientOf } from '../../test/helpers/rest.ts';
import {
  MailUpImportClient, MailUpRestClient, RestApiError, TransportError, filterContains, filterEquals,
  type RestRecipient, type RestRecipientItem,
} from '../src/index.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

/** What the client sent, for the tests that look at the wire. */
interface Sent {
  readonly method: string;
  readonly url: URL;
  readonly streamed: boolean;
  readonly status: number;
}

async function restFor(acc: TestAccount, sent: Sent[] = []): Promise<MailUpRestClient> {
  const creds = await restClientOf(svc, acc);
  return new MailUpRestClient({
    baseUrl: svc.url, clientId: creds.clientId, clientSecret: creds.clientSecret, username: acc.user, password: acc.password,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      sent.push({
        method: init?.method ?? 'GET', url: new URL(String(input)), status: response.status,
        streamed: init?.body instanceof ReadableStream && (init as { duplex?: string }).duplex === 'half',
      });
      return response;
    },
  });
}

const soapFor = (acc: TestAccount): MailUpImportClient => new MailUpImportClient({ endpoint: svc.endpoint, user: acc.user, password: acc.password });

async function* generated(n: number, email: (i: number) => string, from = 0): AsyncGenerator<RestRecipient> {
  for (let i = from; i < from + n; i++) yield { Email: email(i), Name: `Name ${i}`, Fields: [{ Id: 1, Value: `first ${i}` }, { Id: 3, Value: `c${i}` }] };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => assert.fail('expected the call to fail'), (err: unknown) => err);
}

describe('lists, groups and fields', () => {
  let acc: TestAccount;
  let rest: MailUpRestClient;
  before(async () => {
    acc = await svc.addAccount({ listName: 'Caffè & "Friends"' });
    rest = await restFor(acc);
  });

  test('GET User/Lists: the envelope and the list', async () => {
    const page = await rest.getLists();
    assert.deepEqual(page, {
      IsPaginated: false, PageNumber: 0, PageSize: 20, Skipped: 0, TotalElementsCount: 1,
      Items: [{ Company: '', Description: '', Name: 'Caffè & "Friends"', idList: acc.list.id, listGuid: acc.list.guid }],
    });
    assert.deepEqual(await rest.getAllLists(), page.Items);
  });

  test('groups: read, create (a name the list has gives that group), rename, delete, filter', async () => {
    assert.deepEqual((await rest.getAllGroups(acc.list.id)).map((g) => [g.idGroup, g.Name, g.idList]), acc.groups.map((g) => [g.id, g.name, acc.list.id]));
    const made = await rest.createGroup(acc.list.id, { Name: 'Resellers', Notes: 'from the REST client' });
    assert.deepEqual({ ...made, idGroup: 0 }, { Count: null, Deletable: true, Name: 'Resellers', Notes: 'from the REST client', idGroup: 0, idList: acc.list.id });
    assert.equal((await rest.createGroup(acc.list.id, { Name: 'resellers' })).idGroup, made.idGroup);
    assert.equal((await rest.updateGroup(acc.list.id, made.idGroup, { Name: 'Partners' })).Name, 'Partners');
    const filtered = await rest.getGroups(acc.list.id, { filterBy: filterContains('Name', 'Group'), orderBy: 'Name desc' });
    assert.deepEqual(filtered.Items.map((g) => g.Name), ['Group B', 'Group A']);
    await rest.deleteGroup(acc.list.id, made.idGroup);
    assert.deepEqual((await rest.getAllGroups(acc.list.id)).map((g) => g.Name), ['Group A', 'Group B']);
    // The SOAP door sees the same groups.
    assert.deepEqual((await soapFor(acc).getNlLists())[0]!.groups.map((g) => g.groupName), ['Group A', 'Group B']);
  });

  test('dynamic fields: 20 per page by default, all 39 when walked', async () => {
    const first = await rest.getDynamicFields();
    assert.deepEqual([first.Items.length, first.IsPaginated, first.TotalElementsCount, first.PageSize], [20, true, 39, 20]);
    const all = await rest.getAllDynamicFields({ pageSize: 10 });
    assert.deepEqual(all.map((f) => f.Id), Array.from({ length: 39 }, (_, i) => i + 1));
    assert.ok(all.every((f) => typeof f.Description === 'string'));
  });

  test('errors carry MailUp\'s error body and status; a malformed query is a 400 naming it', async () => {
    const other = await svc.addAccount();
    const notMine = await rejection(rest.getGroups(other.list.id));
    assert.ok(notMine instanceof RestApiError, String(notMine));
    assert.deepEqual([notMine.code, notMine.httpStatus, notMine.errorCode, notMine.errorName, notMine.operation],
      ['MAILUP_REST_ERROR', 404, '404', 'NotFound', `GET List/${other.list.id}/Groups`]);
    assert.match(notMine.errorDescription, new RegExp(`List ${other.list.id} does not exist`));
    const badFilter = await rejection(rest.getGroups(acc.list.id, { filterBy: "Name!='x'" }));
    assert.ok(badFilter instanceof RestApiError);
    assert.equal(badFilter.httpStatus, 400);
    assert.throws(() => rest.getGroups(0), TypeError);
    // Nothing listens there: a network error, retried for a read.
    const nowhere = new MailUpRestClient({ baseUrl: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's', username: 'u', password: 'p', retries: 1, retryDelayMs: 10 });
    const network = await rejection(nowhere.getLists());
    assert.ok(network instanceof TransportError, String(network));
    assert.equal(network.code, 'MAILUP_NETWORK_ERROR');
  });
});

describe('bulk import', () => {
  test('a streamed import of thousands of rows: the counts of GET Import/{id} are exact, and the same over SOAP', { timeout: 120_000 }, async () => {
    const acc = await svc.addAccount();
    const sent: Sent[] = [];
    const rest = await restFor(acc, sent);
    const existing = await rest.importRecipients({ idList: acc.list.id }, Array.from({ length: 500 }, (_, i) => ({ Email: `bulk-${i}@example.com` })));
    assert.equal((await rest.waitForImport(existing, { intervalMs: 50 })).CreatedRecipients, 500);

    // 3,000 rows from a generator, 500 of them already on the list, 3 with an address that is not one.
    async function* rows(): AsyncGenerator<RestRecipient> {
      for (let i = 0; i < 3000; i++) {
        yield i % 1000 === 999 ? { Email: `not-an-address-${i}`, Name: '' } : { Email: `bulk-${i}@example.com`, Name: `N${i}`, MobilePrefix: '+39', MobileNumber: `333${String(i).padStart(7, '0')}` };
      }
    }
    sent.length = 0;
    const idImport = await rest.importRecipients({ idList: acc.list.id }, rows());
    const post = sent.find((s) => s.method === 'POST')!;
    assert.ok(post.streamed, 'the body is a ReadableStream sent with duplex half');
    const seen: boolean[] = [];
    const status = await rest.waitForImport(idImport, { intervalMs: 20, deadlineMs: 60_000, onProgress: (s) => seen.push(s.Completed) });
    assert.equal(seen.at(-1), true);
    assert.deepEqual(status, {
      idImport, Completed: true, CreatedRecipients: 2497, UpdatedRecipients: 500, ValidRecipients: 2997, NotValidRecipients: 3, ImportedRecipients: 2997,
    });
    const soap = await soapFor(acc).getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: idImport });
    assert.deepEqual([soap.status, soap.totalContacts, soap.newEmail, soap.existingEmail], ['completed', 3000, 2497, 500]);
    const [{ n }] = await svc.db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id WHERE r.account_id = ? AND s.list_id = ? AND s.channel = 'email' AND s.status = 'subscribed'",
      [acc.account.id, acc.list.id]) as [{ n: number }];
    assert.equal(Number(n), 2997);

    const detail = await rest.getImportDetail(idImport);
    assert.deepEqual([detail.IdImport, detail.IdList, detail.StatusCode, detail.Rows?.Total, detail.Rows?.Invalid.InvalidEmail], [idImport, acc.list.id, 3, 3000, 3]);
    assert.ok(detail.StartDate instanceof Date && detail.EndDate instanceof Date && detail.EndDate >= detail.StartDate);
    assert.ok(Math.abs(detail.EndDate.getTime() - Date.now()) < 120_000, `the end date is read in the API's time zone: ${detail.EndDate.toISOString()}`);
  });

  test('into a group with ConfirmEmail, removeFromPrevGroups, clearMissingOrEmptyFields and asOptout', { timeout: 120_000 }, async () => {
    const acc = await svc.addAccount();
    const rest = await restFor(acc);
    const [groupA, groupB] = acc.groups;
    const members = async (groupId: number): Promise<number> =>
      Number((await svc.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM membership WHERE group_id = ?', [groupId]))[0]!.n);
    const fieldOf = async (email: string): Promise<Record<string, string>> =>
      JSON.parse((await svc.db.query<{ fields: string }>('SELECT fields FROM recipient WHERE account_id = ? AND email = ?', [acc.account.id, email]))[0]!.fields) as Record<string, string>;

    const first = await rest.importRecipients({ idGroup: groupA!.id }, generated(100, (i) => `grp-${i}@example.com`), { ConfirmEmail: true });
    assert.equal((await rest.waitForImport(first, { intervalMs: 20 })).CreatedRecipients, 100);
    assert.equal((await rest.getImportDetail(first)).SendConfirmationEmail, true);
    assert.equal(await members(groupA!.id), 100);

    const moved = await rest.importRecipients({ idGroup: groupB!.id }, generated(100, (i) => `grp-${i}@example.com`), { removeFromPrevGroups: true });
    assert.equal((await rest.waitForImport(moved, { intervalMs: 20 })).UpdatedRecipients, 100);
    assert.deepEqual([await members(groupA!.id), await members(groupB!.id)], [0, 100]);

    assert.equal((await fieldOf('grp-7@example.com'))['3'], 'c7');
    const cleared = await rest.importRecipients({ idList: acc.list.id }, [{ Email: 'grp-7@example.com', Fields: [{ Id: 1, Value: 'only one' }] }], { clearMissingOrEmptyFields: true });
    await rest.waitForImport(cleared, { intervalMs: 20 });
    const fields = await fieldOf('grp-7@example.com');
    assert.equal(fields['1'], 'only one');
    assert.ok(!fields['3'], `field 3 is cleared: ${JSON.stringify(fields)}`);

    const optOut = await rest.importRecipients({ idList: acc.list.id }, [{ Email: 'grp-8@example.com' }], { importType: 'asOptout' });
    await rest.waitForImport(optOut, { intervalMs: 20 });
    assert.equal((await rest.getImportDetail(optOut)).ImportAsUnsubscribed, true);
    const [{ status }] = await svc.db.query<{ status: string }>(
      "SELECT s.status FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id WHERE r.email = ? AND r.account_id = ? AND s.channel = 'email'", ['grp-8@example.com', acc.account.id]) as [{ status: string }];
    assert.equal(status, 'unsubscribed');

    await assert.rejects(rest.importRecipients({ idList: acc.list.id }, [], { removeFromPrevGroups: true }), TypeError);
  });

  test('refusals: a body the API cannot take is a 400 naming the element; an input that breaks off imports nothing', async () => {
    const acc = await svc.addAccount();
    const rest = await restFor(acc);
    const tooHigh = await rejection(rest.importRecipients({ idList: acc.list.id }, [{ Email: 'a@example.com' }, { Email: 'b@example.com', Fields: [{ Id: 40, Value: 'x' }] }]));
    assert.ok(tooHigh instanceof RestApiError, String(tooHigh));
    assert.deepEqual([tooHigh.httpStatus, tooHigh.errorCode, tooHigh.errorName], [400, '400', 'BadRequest']);
    assert.match(tooHigh.errorDescription, /Element 1: Fields\[0\]\.Id/);
    const other = await svc.addAccount();
    const notMine = await rejection(rest.importRecipients({ idList: other.list.id }, [{ Email: 'c@example.com' }]));
    assert.ok(notMine instanceof RestApiError && notMine.httpStatus === 404);

    async function* breaks(): AsyncGenerator<RestRecipient> {
      yield* generated(3000, (i) => `cut-${i}@example.com`);
      throw new Error('the input file went away');
    }
    await assert.rejects(rest.importRecipients({ idList: acc.list.id }, breaks()), /the input file went away/);
    await new Promise((r) => setTimeout(r, 300));
    const processes = await svc.db.query('SELECT id FROM import_process WHERE account_id = ?', [acc.account.id]);
    assert.equal(processes.length, 0, 'no import was started');
  });
});

describe('recipients', () => {
  let acc: TestAccount;
  let rest: MailUpRestClient;
  const sent: Sent[] = [];
  const email = (i: number): string => `state-${String(i).padStart(3, '0')}@example.com`;
  before(async () => {
    acc = await svc.addAccount();
    rest = await restFor(acc, sent);
    const id = await rest.importRecipients({ idList: acc.list.id }, generated(250, email));
    await rest.waitForImport(id, { intervalMs: 20, deadlineMs: 60_000 });
  });

  test('Subscribed walked across pages in order, by the envelope\'s rules; filterby picks one', async () => {
    sent.length = 0;
    const all = await collect(rest.iterateRecipients(acc.list.id, 'Subscribed', { pageSize: 40, orderBy: 'Email asc' }));
    assert.deepEqual(all.map((r) => r.Email), Array.from({ length: 250 }, (_, i) => email(i)));
    assert.ok(all.every((r) => Number.isInteger(r.idRecipient) && r.idRecipient > 0));
    assert.deepEqual(sent.map((s) => s.url.searchParams.get('pageNumber')), ['0', '1', '2', '3', '4', '5', '6']);
    assert.ok(sent.every((s) => s.url.pathname.endsWith(`/Console/List/${acc.list.id}/Recipients/Subscribed`) && s.url.searchParams.get('pageSize') === '40'));

    const one = await rest.getRecipients(acc.list.id, 'Subscribed', { filterBy: filterEquals('Email', email(7)) });
    assert.deepEqual([one.TotalElementsCount, one.Items.length, one.Items[0]?.Email], [1, 1, email(7)]);
    assert.equal(one.Items[0]!.Name, 'Name 7');
    assert.deepEqual(one.Items[0]!.Fields?.find((f) => f.Id === 1)?.Value, 'first 7');
    const some = await rest.getRecipients(acc.list.id, 'Subscribed', { filterBy: filterContains('Email', 'state-01'), orderBy: 'Email desc', pageSize: 100 });
    assert.deepEqual(some.Items.map((r) => r.Email), Array.from({ length: 10 }, (_, i) => email(19 - i)));
  });

  test('single recipients: added (an existing address keeps its id), pending with ConfirmEmail, into a group, updated, unsubscribed', async () => {
    const id = await rest.addRecipient(acc.list.id, { Email: 'single@example.com', Name: 'Single', Fields: [{ Id: 1, Value: 'Sin' }] });
    assert.ok(Number.isInteger(id) && id > 0);
    assert.equal(await rest.addRecipient(acc.list.id, { Email: 'single@example.com', Name: 'Single again' }), id);

    const pendingId = await rest.addRecipient(acc.list.id, { Email: 'confirm-me@example.com', Name: '' }, { ConfirmEmail: true });
    const pending = await collect(rest.iterateRecipients(acc.list.id, 'Pending'));
    assert.deepEqual(pending.map((r) => [r.idRecipient, r.Email]), [[pendingId, 'confirm-me@example.com']]);

    const groupId = acc.groups[1]!.id;
    const grouped = await rest.addRecipientToGroup(groupId, { Email: 'grouped@example.com', Name: 'G' });
    assert.deepEqual((await collect(rest.iterateGroupRecipients(groupId))).map((r) => r.idRecipient), [grouped]);
    assert.equal((await rest.getRecipients(acc.list.id, 'Subscribed', { filterBy: filterEquals('Email', 'grouped@example.com') })).TotalElementsCount, 1);

    // Sent back as it was read, with one member changed (as MailUp's samples do).
    const [item] = (await rest.getRecipients(acc.list.id, 'Subscribed', { filterBy: filterEquals('Email', 'single@example.com') })).Items;
    const updated = await rest.updateRecipient({ ...(item as RestRecipientItem), Name: 'Renamed' });
    assert.deepEqual([updated.idRecipient, updated.Email, updated.Name], [id, 'single@example.com', 'Renamed']);
    assert.equal(updated.Fields.find((f) => f.Id === 1)?.Value, 'Sin');

    await rest.unsubscribe(acc.list.id, id);
    const unsubscribed = await collect(rest.iterateRecipients(acc.list.id, 'Unsubscribed'));
    assert.deepEqual(unsubscribed.map((r) => r.idRecipient), [id]);
    assert.equal((await rest.getRecipients(acc.list.id, 'Subscribed', { filterBy: filterEquals('Email', 'single@example.com') })).TotalElementsCount, 0);
    await rest.subscribe(acc.list.id, id);
    assert.equal((await rest.getRecipients(acc.list.id, 'Subscribed', { filterBy: filterEquals('Email', 'single@example.com') })).TotalElementsCount, 1);

    const missing = await rejection(rest.addRecipient(999_999, { Email: 'x@example.com' }));
    assert.ok(missing instanceof RestApiError && missing.httpStatus === 404 && missing.errorCode === '404', String(missing));
  });

  test('EmailOptins: the opt-in items, their dates read as Date', async () => {
    const items = await collect(rest.iterateRecipients(acc.list.id, 'EmailOptins', { pageSize: 100 }));
    assert.ok(items.length >= 250, `${items.length} items`);
    for (const r of items) {
      assert.ok(Number.isInteger(r.idRecipient));
      for (const d of [r.Optin_Date, r.Optin_Request_Date, r.Optout_Date]) assert.ok(d === undefined || d === null || d instanceof Date, String(d));
    }
    assert.ok(items.some((r) => r.Optin_Date instanceof Date), 'subscribed recipients have an opt-in date');
  });
});
