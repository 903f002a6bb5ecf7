/**
 * The subscription rules end to end: prior states written by earlier imports (or by a bounce),
 * flags sent over SOAP, and the stored subscriptions, groups, fields and counters that result.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callSoap, feedXml, resultFields, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';
import { readRejectedRow } from '../../src/import/rejected-row.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

type Flags = Partial<Record<'asPending' | 'ConfirmEmail' | 'asOptOut' | 'forceOptIn' | 'replaceGroups', boolean>>;

async function importInto(a: TestAccount, xmlDoc: string, flags: Flags = {}, extra: { groupsIDs?: string; importType?: number; mobileInputType?: number } = {}) {
  const auth = { User: a.user, Password: a.password };
  const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: String(a.list.id), listsGUIDs: a.list.guid, xmlDoc, groupsIDs: extra.groupsIDs ?? '', importType: extra.importType ?? 3,
    mobileInputType: extra.mobileInputType ?? 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, ...flags,
  }, auth);
  assert.equal(reply.returnCode, 0, reply.result ?? reply.body);
  const id = Number(/<processID>(\d+)/.exec(reply.result!)![1]);
  return resultFields((await waitForProcess(svc.endpoint, auth, a.list.id, a.list.guid, id)).result!);
}

/** Stored state of one recipient, read from the store's database (either engine). */
async function stateOf(a: TestAccount, email: string): Promise<{ status: string | null; reason: string | null; groups: number[]; fields: Record<string, string>; mobile: string | null }> {
  const [r] = await svc.db.query<{ id: number; fields: string; mobile: string | null }>(
    'SELECT id, fields, mobile FROM recipient WHERE account_id = ? AND email = ?', [a.account.id, email]);
  if (!r) return { status: null, reason: null, groups: [], fields: {}, mobile: null };
  const [s] = await svc.db.query<{ status: string; reason: string | null }>(
    "SELECT status, reason FROM subscription_channel WHERE recipient_id = ? AND list_id = ? AND channel = 'email'", [r.id, a.list.id]);
  const groups = (await svc.db.query<{ group_id: number }>('SELECT group_id FROM membership WHERE recipient_id = ? ORDER BY group_id', [r.id]))
    .map((g) => g.group_id);
  return { status: s?.status ?? null, reason: s?.reason ?? null, groups, fields: JSON.parse(r.fields) as Record<string, string>, mobile: r.mobile };
}

test('opt-out, pending and forced re-subscription follow the documented combinations', async () => {
  const a = await svc.addAccount();
  const one = (email: string) => feedXml([{ email }]);
  await importInto(a, one('s@x.it'));
  assert.equal((await stateOf(a, 's@x.it')).status, 'subscribed');
  // subscribed -> unsubscribed with asOptOut
  const out = await importInto(a, one('s@x.it'), { asOptOut: true });
  assert.deepEqual([out.OptOutEmail, out.ExistingEmail, out.NewEmail], ['1', '0', '0']);
  assert.deepEqual([(await stateOf(a, 's@x.it')).status, (await stateOf(a, 's@x.it')).reason], ['unsubscribed', 'import']);
  // unsubscribed stays without forceOptIn, and comes back with it
  await importInto(a, one('s@x.it'));
  assert.equal((await stateOf(a, 's@x.it')).status, 'unsubscribed');
  const back = await importInto(a, one('s@x.it'), { forceOptIn: true });
  assert.deepEqual([back.ExistingEmail, back.OptOutEmail], ['1', '0']);
  assert.equal((await stateOf(a, 's@x.it')).status, 'subscribed');
  // subscribed -> pending with ConfirmEmail; pending -> subscribed with asPending
  await importInto(a, one('s@x.it'), { ConfirmEmail: true });
  assert.equal((await stateOf(a, 's@x.it')).status, 'pending');
  await importInto(a, one('s@x.it'));
  assert.equal((await stateOf(a, 's@x.it')).status, 'pending', 'a default import leaves pending recipients alone');
  await importInto(a, one('s@x.it'), { asPending: true });
  assert.equal((await stateOf(a, 's@x.it')).status, 'subscribed');
});

test('a hard-bounce unsubscribe is never undone, not even with forceOptIn', async () => {
  const a = await svc.addAccount();
  await importInto(a, feedXml([{ email: 'bounced@x.it' }]));
  // A hard bounce: no operation of the service writes one, so the test sets it in the database.
  await svc.db.execute(`UPDATE subscription SET email_status = 'unsubscribed', email_reason = 'bounce'
    WHERE recipient_id = (SELECT id FROM recipient WHERE account_id = ? AND email = 'bounced@x.it')`, [a.account.id]);
  const r = await importInto(a, feedXml([{ email: 'bounced@x.it' }]), { forceOptIn: true, ConfirmEmail: true });
  assert.equal(r.OptOutEmail, '1');
  assert.deepEqual([(await stateOf(a, 'bounced@x.it')).status, (await stateOf(a, 'bounced@x.it')).reason], ['unsubscribed', 'bounce']);
});

test('groups are added, and replaceGroups removes the list\'s other groups', async () => {
  const a = await svc.addAccount();
  const [g1, g2] = a.groups.map((g) => g.id);
  await importInto(a, feedXml([{ email: 'g@x.it' }]), {}, { groupsIDs: String(g1) });
  await importInto(a, feedXml([{ email: 'g@x.it' }]), {}, { groupsIDs: String(g2) });
  assert.deepEqual((await stateOf(a, 'g@x.it')).groups, [g1, g2]);
  await importInto(a, feedXml([{ email: 'g@x.it' }]), { replaceGroups: true }, { groupsIDs: String(g2) });
  assert.deepEqual((await stateOf(a, 'g@x.it')).groups, [g2]);
});

test('fields: importType 1-3 keep stored values for empty fields, 4-6 clear them', async () => {
  const a = await svc.addAccount();
  await importInto(a, feedXml([{ email: 'f@x.it', fields: ['Anna', 'Rossi', 'ACME'] }]));
  await importInto(a, feedXml([{ email: 'f@x.it', fields: ['Anna Maria', '', 'ACME'] }]), {}, { importType: 1 });
  assert.deepEqual((await stateOf(a, 'f@x.it')).fields, { 1: 'Anna Maria', 2: 'Rossi', 3: 'ACME' });
  await importInto(a, feedXml([{ email: 'f@x.it', fields: ['Anna Maria', '', ''] }]), {}, { importType: 4 });
  assert.deepEqual((await stateOf(a, 'f@x.it')).fields, { 1: 'Anna Maria', 2: '', 3: '' });
});

test('mobile numbers: both input types store one form and SMS imports match by number', async () => {
  const a = await svc.addAccount();
  const r = await importInto(a, feedXml([{ email: 'm@x.it', Prefix: '+39', Number: '333 1234567' }]), {}, { mobileInputType: 2 });
  assert.deepEqual([r.NewEmail, r.NewMobile], ['1', '1']);
  assert.equal((await stateOf(a, 'm@x.it')).mobile, '+393331234567');
  const sms = await importInto(a, feedXml([{ Number: '0039 3331234567' }]), {}, { importType: 2 });
  assert.deepEqual([sms.NewMobile, sms.ExistingMobile, sms.TotalContacts], ['0', '1', '1']);
});

test('rejected rows are reported with row number, raw value and reason, and never fail the import', async () => {
  const a = await svc.addAccount();
  const r = await importInto(a, feedXml([{ email: 'ok@x.it' }, { email: 'bad address' }, { email: `${'l'.repeat(60)}@x.it` }, { email: 'ok2@x.it', fields: ['x'.repeat(300)] }]));
  assert.deepEqual([r.StatusCode, r.TotalContacts, r.NewEmail], ['3', '4', '1']);
  const processes = await svc.service.store.processes.listProcesses(a.account.id);
  const report = await svc.service.store.processes.rejectReport(a.account.id, processes[0]!.id);
  assert.deepEqual(report.map((x) => [x.row, x.reason]), [
    [2, 'invalid e-mail address'], [3, 'e-mail address longer than 50 characters'], [4, 'campo1 longer than the allowed length'],
  ]);
  assert.equal(readRejectedRow(report[0]!.raw).email, 'bad address');
});
