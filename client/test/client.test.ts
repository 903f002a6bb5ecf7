/**
 * Every operation of the client against the real service (HTTP on a free port, SQLite in a
 * temporary folder, the import worker), over SOAP 1.1 and SOAP 1.2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import { MailUpImportClient, buildFeed, streamFeed, type ProcessDetails, type SoapVersion } from '../src/index.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

const clientFor = (acc: TestAccount, soapVersion: SoapVersion): MailUpImportClient =>
  new MailUpImportClient({ endpoint: svc.endpoint, user: acc.user, password: acc.password, soapVersion, retryDelayMs: 50 });

async function finished(client: MailUpImportClient, acc: TestAccount, idProcess: number): Promise<ProcessDetails> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const p = await client.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess });
    if (p.status === 'completed' || p.status === 'failed') return p;
    if (Date.now() > deadline) throw new Error(`process ${idProcess} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const soapVersion of ['1.1', '1.2'] as const) {
  describe(`SOAP ${soapVersion}`, () => {
    let acc: TestAccount;
    let client: MailUpImportClient;
    before(async () => {
      acc = await svc.addAccount({ listName: 'Caffè & "Friends" <€ 😀>' });
      client = clientFor(acc, soapVersion);
    });

    test('GetIdWsUser answers the account id', async () => {
      assert.equal(await client.getIdWsUser(), acc.account.id);
    });

    test('GetIdUser and GetNlListsUser: a console user and the lists it may see', async () => {
      const other = await svc.service.store.lists.createList(acc.account.id, 'Hidden list');
      const user = await svc.service.store.accounts.createConsoleUser(acc.account.id, `editor-${soapVersion}`, 'not-a-real-hash', [acc.list.id]);
      const userId = await client.getIdUser({ userName: `editor-${soapVersion}` });
      assert.equal(userId, user.id);
      const lists = await client.getNlListsUser({ userId });
      assert.deepEqual(lists.map((l) => l.idList), [acc.list.id]);
      assert.ok((await client.getNlLists()).some((l) => l.idList === other.id));
    });

    test('GetNlLists: names with markup characters and non-ASCII come back exactly', async () => {
      const lists = await client.getNlLists();
      const list = lists.find((l) => l.idList === acc.list.id)!;
      assert.deepEqual(list, {
        idList: acc.list.id, listGUID: acc.list.guid, listName: 'Caffè & "Friends" <€ 😀>',
        groups: acc.groups.map((g) => ({ idGroup: g.id, groupName: g.name })),
      });
    });

    test('CreateGroup answers the new id, and the existing id for an existing name', async () => {
      const id = await client.createGroup({ idList: acc.list.id, listGUID: acc.list.guid, newGroupName: 'Résellers & <Partners>' });
      assert.equal(await client.createGroup({ idList: acc.list.id, listGUID: acc.list.guid, newGroupName: 'Résellers & <Partners>' }), id);
      const list = (await client.getNlLists()).find((l) => l.idList === acc.list.id)!;
      assert.ok(list.groups.some((g) => g.idGroup === id && g.groupName === 'Résellers & <Partners>'));
    });

    test('NewImportProcess, then StartProcess, then GetProcessDetails until completed', async () => {
      const before = Date.now();
      const idProcess = await client.newImportProcess({
        idList: acc.list.id, listGUID: acc.list.guid, idGroups: `${acc.groups[0]!.id}`,
        xmlDoc: buildFeed([{ email: `one-${soapVersion}@example.com`, fields: ['Anna'] }, { email: `two-${soapVersion}@example.com` }]),
      });
      assert.ok(idProcess > 0);
      const waiting = await client.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess });
      assert.equal(waiting.status, 'waiting');
      assert.equal(waiting.statusCode, 1);
      assert.equal(waiting.startDate, null);
      assert.equal(waiting.endDate, null);
      assert.equal(waiting.totalContacts, 2);
      assert.equal(await client.startProcess({ idList: acc.list.id, listGUID: acc.list.guid, idProcess }), undefined);
      const done = await finished(client, acc, idProcess);
      assert.equal(done.status, 'completed');
      assert.equal(done.isRunning, false);
      assert.equal(done.newEmail, 2);
      assert.equal(done.confirmationEmail, false);
      assert.equal(done.confirmationSent, null);
      // Dates are written to the second in Europe/Rome and read back in the same zone.
      assert.ok(done.startDate!.getTime() >= Math.floor(before / 1000) * 1000 && done.startDate!.getTime() <= Date.now());
      assert.ok(done.endDate!.getTime() >= done.startDate!.getTime() && done.endDate!.getTime() <= Date.now());
    });

    test('StartImportProcesses with a feed: started at once; with ConfirmEmail the confirmation is pending', async () => {
      const [started, ...rest] = await client.startImportProcesses({
        listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid, groupsIDs: '', ConfirmEmail: true,
        xmlDoc: buildFeed([{ email: `confirm-${soapVersion}@example.com` }]),
      });
      assert.deepEqual(rest, []);
      assert.equal(started!.idList, acc.list.id);
      const done = await finished(client, acc, started!.idProcess);
      assert.equal(done.confirmationEmail, true);
      assert.equal(done.confirmationSent, false);
    });

    test('StartImportProcesses without a feed starts the prepared processes in order; a streamed feed works', async () => {
      const rows = Array.from({ length: 3000 }, (_, i) => ({ email: `stream-${soapVersion}-${i}@example.com`, fields: [`Näme ${i}`] }));
      const first = await client.newImportProcess({ idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: streamFeed(rows, { fieldCount: 1 }) });
      const second = await client.newImportProcess({ idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: buildFeed(rows.slice(0, 10)) });
      const started = await client.startImportProcesses({ listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid });
      assert.deepEqual(started, [{ idProcess: first, idList: acc.list.id }, { idProcess: second, idList: acc.list.id }]);
      const a = await finished(client, acc, first);
      const b = await finished(client, acc, second);
      assert.deepEqual([a.totalContacts, a.newEmail, a.existingEmail], [3000, 3000, 0]);
      assert.deepEqual([b.totalContacts, b.newEmail, b.existingEmail], [10, 0, 10]);
      const stored = await svc.db.query<{ fields: string }>('SELECT fields FROM recipient WHERE account_id = ? AND email = ?', [acc.account.id, `stream-${soapVersion}-2999@example.com`]);
      assert.deepEqual(JSON.parse(stored[0]!.fields), { 1: 'Näme 2999' });
    });

    test('call() and callRaw() reach any operation by name', async () => {
      assert.equal(await client.call('GetIdWsUser'), acc.account.id);
      const raw = await client.callRaw('GetIdWsUser');
      assert.match(raw, /^<\?xml version="1.0" encoding="windows-1252" \?><mailupMessage><mailupBody><ReturnCode>0<\/ReturnCode>/);
    });
  });
}

test('a bare origin gets the service path; the password never shows in inspect or JSON', async () => {
  const acc = await svc.addAccount();
  const client = new MailUpImportClient({ endpoint: svc.url, user: acc.user, password: acc.password });
  assert.equal(client.endpoint, `${svc.url}/Services/WSMailupImport.asmx`);
  assert.equal(await client.getIdWsUser(), acc.account.id);
  const { inspect } = await import('node:util');
  assert.ok(!inspect(client, { showHidden: true, depth: 5 }).includes(acc.password));
  assert.ok(!JSON.stringify(client).includes(acc.password));
  assert.throws(() => new MailUpImportClient({ endpoint: 'ftp://x', user: 'a', password: 'b' }), /not an http/);
  assert.throws(() => new MailUpImportClient({ endpoint: 'not a url', user: 'a', password: 'b' }), /not a URL/);
  assert.throws(() => new MailUpImportClient({ endpoint: svc.url, user: 'a', password: 'b', timeZone: 'Mars/Base' }), RangeError);
});

test('arguments that do not fit the WSDL are refused before anything is sent', async () => {
  const acc = await svc.addAccount();
  const client = clientFor(acc, '1.1');
  const bad = [
    () => client.getProcessDetails({ idList: acc.list.id, listGuid: acc.list.guid, idProcess: 1 } as never),
    () => client.getProcessDetails({ idList: 1.5, idProcess: 1 }),
    () => client.getProcessDetails({ idList: 2 ** 31, idProcess: 1 }),
    () => client.startProcess({ idProcess: 1 } as never),
    () => client.newImportProcess({ idList: 1, asOptOut: 'yes' as never }),
    () => client.createGroup({ idList: 1, newGroupName: 5 as never }),
  ];
  for (const call of bad) await assert.rejects(call, TypeError);
  const processes = await svc.db.query('SELECT id FROM import_process WHERE account_id = ?', [acc.account.id]);
  assert.equal(processes.length, 0);
});
