import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let acc: TestAccount;
before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
});
after(() => svc.close());

test('an inline StartImportProcesses import reaches status 3 with its counters', async () => {
  const auth = { User: acc.user, Password: acc.password };
  const start = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: acc.list.id, listsGUIDs: acc.list.guid, groupsIDs: acc.groups[0]!.id,
    xmlDoc: feedXml([{ email: 'a@example.com', fields: ['Anna'] }, { email: 'b@example.com' }, { email: 'not-an-email' }]),
    importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, auth);
  assert.equal(start.returnCode, 0, start.body);
  const id = Number(/<processID>(\d+)<\/processID>/.exec(start.result!)![1]);
  const done = await waitForProcess(svc.endpoint, auth, acc.list.id, acc.list.guid, id);
  assert.match(done.result!, /<TotalContacts>3<\/TotalContacts><NewMobile>0<\/NewMobile><NewEmail>2<\/NewEmail>/);
  assert.match(done.result!, /<StatusCode>3<\/StatusCode><IsRunning>False<\/IsRunning>/);
});
