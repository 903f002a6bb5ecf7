/**
 * The REST bulk import over real HTTP, on both stores: `POST List|Group/{id}/Recipients` with each
 * option, the import visible through SOAP GetProcessDetails and exact through `GET Import/{id}`,
 * its detail, its confirmation mailing, and an import queued behind the account's running one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { callSoap, resultFields, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { assertMailUpError, callRest, login, restClientOf } from '../helpers/rest.ts';
import { bulkImport, importStatus, recipientState, waitForImport, type RestRecipient } from './import-helpers.ts';

let svc: TestService;
let acc: TestAccount;
let token: string;

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  token = (await login(svc, acc, await restClientOf(svc, acc))).access_token;
});
after(() => svc.close());

/** Imports `recipients` and waits for the import to complete; answers its id and final status. */
async function imported(path: string, recipients: readonly RestRecipient[]) {
  const id = await bulkImport(svc, token, path, recipients);
  return { id, status: await waitForImport(svc, token, id) };
}

describe('into a list', () => {
  test('answers the import id as a bare number; GET Import/{id} gives exact counts and SOAP sees the same process', async () => {
    const answer = await callRest(svc, token, 'POST', `/List/${acc.list.id}/Recipients`, [
      { Name: 'Ann', Email: 'Ann@Example.com', MobileNumber: '3331234567', MobilePrefix: '+39', Fields: [{ Id: 1, Value: 'Ann', Description: 'nome' }] },
      { Name: '', Email: 'bob@example.com', MobileNumber: null, MobilePrefix: null, Fields: [] },
      { Name: 'Bad', Email: 'not an address', Fields: [] },
      { Name: 'Bad mobile', Email: 'carl@example.com', MobileNumber: '12', MobilePrefix: '' },
      { idRecipient: 99, Email: 'ann@example.com', Fields: [{ Id: 2, Value: 'Rossi' }] },
    ]);
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^\d+$/, 'a bare JSON number');
    const id = answer.body as number;
    const status = await waitForImport(svc, token, id);
    assert.deepEqual(status, {
      idImport: id, Completed: true, CreatedRecipients: 2, UpdatedRecipients: 1, ValidRecipients: 3, NotValidRecipients: 2, ImportedRecipients: 3,
    });
    const details = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, { User: acc.user, Password: acc.password });
    assert.equal(details.returnCode, 0, details.body);
    const f = resultFields(details.result!);
    assert.deepEqual([f.StatusCode, f.TotalContacts, f.NewEmail, f.ExistingEmail, f.NewMobile], ['3', '5', '2', '1', '1']);
    assert.deepEqual(await recipientState(svc, 'ann@example.com', acc.list.id), {
      mobile: '+393331234567', name: 'Ann', fields: { 1: 'Ann', 2: 'Rossi' }, email: 'subscribed', sms: 'subscribed', groups: [],
    });
    assert.deepEqual((await recipientState(svc, 'bob@example.com', acc.list.id)).email, 'subscribed');
    assert.equal(await recipientState(svc, 'carl@example.com', acc.list.id).catch(() => null), null, 'an invalid mobile rejects its row');
    const rejects = await svc.service.store.processes.rejectReport(acc.account.id, id);
    // No MobilePrefix on a list without a default country: the number cannot be read (docs/behaviour.md, "Mobile numbers").
    assert.deepEqual(rejects.map((r) => [r.row, r.reason]), [[3, 'invalid e-mail address'],
      [4, 'invalid mobile number: no country code (+ or 00) and the list has no default country']]);
    const detail = await callRest<{ Rows: { Invalid: Record<string, number> } }>(svc, token, 'GET', `/Imports/${id}`);
    assert.deepEqual([detail.body.Rows.Invalid.WithoutPrefix, detail.body.Rows.Invalid.InvalidNumber], [1, 0]);
  });

  test('GET Imports/{id}: the detail of the import, with its rows broken down', async () => {
    const { id } = await imported(`/List/${acc.list.id}/Recipients?ConfirmEmail=true&clearMissingOrEmptyFields=true`, [
      { Email: 'detail1@example.com' }, { Email: 'detail2@example.com', MobileNumber: '3337654321', MobilePrefix: '0039' }, { Email: 'x' }, {},
    ]);
    const detail = await callRest<Record<string, unknown>>(svc, token, 'GET', `/Imports/${id}`);
    assert.equal(detail.status, 200, detail.text);
    const { StartDate, EndDate, ...rest } = detail.body;
    assert.match(String(StartDate), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.match(String(EndDate), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.deepEqual(rest, {
      FieldSeparator: '', Filename: '', IdGroups: [], IdImport: id, IdList: acc.list.id, IgnoreDoubleQuotes: false, IgnoreFirstRow: false,
      ImportAsUnsubscribed: false, IncludePendingRecipients: false, OverwriteEmptyFields: true, ReplaceExistingGroup: false,
      Rows: {
        Invalid: { InvalidEmail: 1, InvalidNumber: 0, Total: 2, WithoutEmail: 1, WithoutNumber: 0, WithoutPrefix: 0 },
        Total: 4,
        Valid: { EmailNew: 2, EmailUpdate: 0, NumberNew: 1, NumberUpdate: 0, RepeatedEmail: 0, RepeatedNumber: 0, Total: 2 },
      },
      SendConfirmationEmail: true, StatusCode: 3,
    });
  });

  test('query names and values in any case', async () => {
    const { status } = await imported(`/List/${acc.list.id}/Recipients?confirmemail=True&IMPORTTYPE=ASOPTOUT`, [{ Email: 'case@example.com' }]);
    assert.equal(status.Completed, true);
    assert.equal((await recipientState(svc, 'case@example.com', acc.list.id)).email, 'unsubscribed', 'asOptout wins over ConfirmEmail');
  });
});

describe('options', () => {
  test('ConfirmEmail: new recipients pending with a request; subscribed ones stay subscribed, pending ones keep their state', async () => {
    await imported(`/List/${acc.list.id}/Recipients`, [{ Email: 'already@example.com' }]);
    await imported(`/List/${acc.list.id}/Recipients?ConfirmEmail=true`, [{ Email: 'waiting@example.com' }]);
    const requestsBefore = await svc.db.query('SELECT id FROM confirmation_request');
    const { id } = await imported(`/List/${acc.list.id}/Recipients?ConfirmEmail=true`, [
      { Email: 'fresh@example.com' }, { Email: 'already@example.com' }, { Email: 'waiting@example.com' },
    ]);
    assert.equal((await recipientState(svc, 'fresh@example.com', acc.list.id)).email, 'pending');
    assert.equal((await recipientState(svc, 'already@example.com', acc.list.id)).email, 'subscribed');
    assert.equal((await recipientState(svc, 'waiting@example.com', acc.list.id)).email, 'pending');
    const requests = await svc.db.query<{ email: string }>(
      'SELECT r.email FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id WHERE c.process_id = ?', [id]);
    assert.deepEqual(requests.map((r) => r.email), ['fresh@example.com'], 'one request, for the new recipient only');
    assert.equal((await svc.db.query('SELECT id FROM confirmation_request')).length, requestsBefore.length + 1);
  });

  test('importType=asOptout: every recipient of the body ends unsubscribed, new, subscribed or pending', async () => {
    await imported(`/List/${acc.list.id}/Recipients`, [{ Email: 'optout-sub@example.com' }]);
    await imported(`/List/${acc.list.id}/Recipients?ConfirmEmail=true`, [{ Email: 'optout-pending@example.com' }]);
    const { status } = await imported(`/List/${acc.list.id}/Recipients?importType=asOptout`, [
      { Email: 'optout-new@example.com' }, { Email: 'optout-sub@example.com' }, { Email: 'optout-pending@example.com' },
    ]);
    for (const email of ['optout-new@example.com', 'optout-sub@example.com', 'optout-pending@example.com']) {
      assert.equal((await recipientState(svc, email, acc.list.id)).email, 'unsubscribed', email);
    }
    assert.deepEqual([status.CreatedRecipients, status.UpdatedRecipients, status.ImportedRecipients], [0, 3, 3], 'opt-outs count as updated');
    const { status: optin } = await imported(`/List/${acc.list.id}/Recipients?importType=asOptin`, [{ Email: 'optout-sub@example.com' }]);
    assert.equal(optin.Completed, true);
    assert.equal((await recipientState(svc, 'optout-sub@example.com', acc.list.id)).email, 'unsubscribed', 'an unsubscribed recipient stays so');
  });

  test('clearMissingOrEmptyFields: by default a field missing or empty is left as it was; with it, cleared', async () => {
    const full = [{ Id: 1, Value: 'one' }, { Id: 2, Value: 'two' }, { Id: 3, Value: 'three' }];
    await imported(`/List/${acc.list.id}/Recipients`, [{ Email: 'keep@example.com', Fields: full }, { Email: 'clear@example.com', Fields: full }]);
    const partial = [{ Id: 1, Value: 'ONE' }, { Id: 2, Value: '' }];
    await imported(`/List/${acc.list.id}/Recipients`, [{ Email: 'keep@example.com', Fields: partial }]);
    await imported(`/List/${acc.list.id}/Recipients?clearMissingOrEmptyFields=true`, [{ Email: 'clear@example.com', Fields: partial }]);
    assert.deepEqual((await recipientState(svc, 'keep@example.com', acc.list.id)).fields, { 1: 'ONE', 2: 'two', 3: 'three' });
    assert.deepEqual((await recipientState(svc, 'clear@example.com', acc.list.id)).fields, { 1: 'ONE' });
  });
});

describe('into a group', () => {
  test('joins the group and subscribes to its list; removeFromPrevGroups leaves the other groups first', async () => {
    const [groupA, groupB] = acc.groups;
    await imported(`/Group/${groupA!.id}/Recipients`, [{ Email: 'grouped@example.com' }, { Email: 'moved@example.com' }]);
    assert.deepEqual(await recipientState(svc, 'grouped@example.com', acc.list.id), {
      mobile: null, name: null, fields: {}, email: 'subscribed', sms: null, groups: [groupA!.id],
    });
    await imported(`/Group/${groupB!.id}/Recipients`, [{ Email: 'grouped@example.com' }]);
    await imported(`/Group/${groupB!.id}/Recipients?removeFromPrevGroups=true`, [{ Email: 'moved@example.com' }]);
    assert.deepEqual((await recipientState(svc, 'grouped@example.com', acc.list.id)).groups, [groupA!.id, groupB!.id].sort((a, b) => a - b));
    assert.deepEqual((await recipientState(svc, 'moved@example.com', acc.list.id)).groups, [groupB!.id]);
    const detail = await callRest<Record<string, unknown>>(svc, token, 'GET', `/Imports/${await bulkImport(svc, token, `/Group/${groupB!.id}/Recipients?RemoveFromPrevGroups=TRUE`, [{ Email: 'x@example.com' }])}`);
    assert.deepEqual([detail.body.IdGroups, detail.body.ReplaceExistingGroup, detail.body.IdList], [[groupB!.id], true, acc.list.id]);
  });
});

describe('the confirmation mailing of an import', () => {
  test('GET Import/{id}/Sending gives its id; Email/Sendings/{id}/Immediate sends it; Deferred is refused', async () => {
    const { id } = await imported(`/List/${acc.list.id}/Recipients?ConfirmEmail=true`, [{ Email: 'mail1@example.com' }, { Email: 'mail2@example.com' }]);
    const sending = await callRest<{ idMessage: number; idList: number }>(svc, token, 'GET', `/Import/${id}/Sending`);
    assert.equal(sending.status, 200, sending.text);
    assert.deepEqual(sending.body, { idMessage: id, idList: acc.list.id });
    const deferred = await callRest(svc, token, 'POST', `/Email/Sendings/${sending.body.idMessage}/Deferred`, { Date: '2030-01-01 10:00:00' });
    assertMailUpError(deferred, 400, /Deferred sending is not supported.*Immediate/);
    const sent = await callRest(svc, token, 'POST', `/Email/Sendings/${sending.body.idMessage}/Immediate`);
    assert.equal(sent.status, 200, sent.text);
    assert.deepEqual(sent.body, { InvalidRecipients: [], Sent: 2, UnprocessedRecipients: [], idMessage: id });
    const outbox = await svc.service.store.confirmations.listOutbox(acc.account.id, { limit: 10 });
    assert.deepEqual(outbox.map((m) => m.recipient).filter((to) => to.startsWith('mail')).sort(), ['mail1@example.com', 'mail2@example.com']);
    const again = await callRest(svc, token, 'POST', `/Email/Sendings/${id}/Immediate`);
    assert.deepEqual((again.body as { Sent: number }).Sent, 0, 'each request is sent once');
  });

  test('Immediate before the import has completed: 400, nothing sent', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ Email: `early${i}@example.com` }));
    const id = await bulkImport(svc, token, `/List/${acc.list.id}/Recipients?ConfirmEmail=true`, rows);
    const early = await callRest(svc, token, 'POST', `/Email/Sendings/${id}/Immediate`);
    const process = await svc.service.store.processes.getProcess(acc.account.id, id);
    // When the import was still running after the answer, it was running when the call came.
    if (process!.status !== 3) assertMailUpError(early, 400, new RegExp(`Import ${id} has not completed yet`));
    if (early.status === 400) {
      const sent = await svc.db.query("SELECT id FROM confirmation_request WHERE process_id = ? AND status <> 'queued'", [id]);
      assert.equal(sent.length, 0, 'nothing was sent');
    }
    await waitForImport(svc, token, id, 120_000);
  });

  test('an import without ConfirmEmail has no mailing: 404', async () => {
    const { id } = await imported(`/List/${acc.list.id}/Recipients`, [{ Email: 'nomail@example.com' }]);
    assertMailUpError(await callRest(svc, token, 'GET', `/Import/${id}/Sending`), 404, /did not ask for ConfirmEmail/);
    assertMailUpError(await callRest(svc, token, 'POST', `/Email/Sendings/${id}/Immediate`), 404, /did not ask for ConfirmEmail/);
  });
});

describe('queueing', () => {
  test('an import sent while the account runs another is queued behind it, not refused, and both complete', async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => ({ Email: `queue${i}@example.com` }));
    const first = await bulkImport(svc, token, `/List/${acc.list.id}/Recipients`, big);
    const second = await bulkImport(svc, token, `/List/${acc.list.id}/Recipients`, [{ Email: 'queued-behind@example.com' }]);
    const waiting = await svc.service.store.processes.getProcess(acc.account.id, second);
    const secondStatus = await importStatus(svc, token, second);
    // Read last: while the first still runs, the second cannot have started, let alone completed.
    const running = await svc.service.store.processes.getProcess(acc.account.id, first);
    if (running!.status === 2) {
      assert.deepEqual([waiting!.status, waiting!.queued], [1, true], 'queued behind the running import');
      assert.equal(secondStatus.Completed, false);
    }
    const [a, b] = [await waitForImport(svc, token, first, 120_000), await waitForImport(svc, token, second)];
    assert.deepEqual([a.ValidRecipients, b.ValidRecipients], [20_000, 1]);
  });
});
