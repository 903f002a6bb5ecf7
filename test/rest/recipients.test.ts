/**
 * The REST API's single-recipient write calls over real HTTP with a real token, on the store
 * TEST_STORE names (npm test runs it on both), with the requests mailupy and MailUp's samples
 * send: POST List/Group …/Recipient (a bare id; ConfirmEmail with its confirmation message in
 * the outbox, whose link subscribes), the key mismatch, an unsubscribed recipient that stays
 * unsubscribed until POST List/{id}/Subscribe/{id}, PUT Recipient/Detail (mailupy's body, and an
 * item sent back as a listing answered it), groups in and out, removal from a list and from the
 * account; every 400 and 404, each leaving the stored recipients as they were; another
 * account's lists, groups and recipients answered 404.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertMailUpError, callRest, login, restClientOf, type RestAnswer } from '../helpers/rest.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import {
  emailStatus, mailupyCall, mailupyQuery, outboxOf, storedState, type Envelope, type RestRecipient,
} from './recipient-helpers.ts';
import { bulkImport, recipientState, waitForImport } from './import-helpers.ts';

const PUBLIC_URL = 'http://127.0.0.1:1';
let svc: TestService;
let a: TestAccount;
let b: TestAccount;
let token: string;
let otherToken: string;

before(async () => {
  svc = await startTestService({ PUBLIC_URL: `${PUBLIC_URL}/` });
  a = await svc.addAccount({ listName: 'Alpha news' });
  b = await svc.addAccount({ listName: 'Beta news' });
  token = (await login(svc, a, await restClientOf(svc, a))).access_token;
  otherToken = (await login(svc, b, await restClientOf(svc, b))).access_token;
});
after(() => svc.close());

/** mailupy's `_build_mailup_fields` for {nome, cognome}. */
const mailupyFields = (nome: string, cognome?: string) => [
  { Description: 'nome', Id: 1, Value: nome },
  ...(cognome === undefined ? [] : [{ Description: 'cognome', Id: 2, Value: cognome }]),
];

/** mailupy's subscribe_to_list: the id, a bare JSON number. */
async function subscribeAsMailupy(email: string, name: string, options: { pending?: boolean; list?: number; fields?: object[] } = {}): Promise<number> {
  const answer = await mailupyCall(svc, token, 'POST', `/List/${options.list ?? a.list.id}/Recipient${options.pending ? '?ConfirmEmail=True' : ''}`,
    { Name: name, Email: email, Fields: options.fields ?? mailupyFields(name) });
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.text, /^\d+$/, 'a bare JSON number');
  assert.match(answer.headers.get('content-type')!, /^application\/json/);
  return answer.body as number;
}

const stored = (id: number) => svc.service.store.recipients.getRecipient(a.account.id, { id });

/** The call changes nothing stored and answers MailUp's error body with `status`. */
async function refusedAndUnchanged(call: () => Promise<RestAnswer>, status: number, description: RegExp, accountId = a.account.id): Promise<void> {
  const before = await storedState(svc, accountId);
  assertMailUpError(await call(), status, description);
  assert.equal(await storedState(svc, accountId), before, 'nothing changed');
}

describe('POST List/{idList}/Recipient and Group/{idGroup}/Recipient', () => {
  test("mailupy's subscribe_to_list: the id as a bare number, subscribed at once; again with the same e-mail, the same recipient updated", async () => {
    const id = await subscribeAsMailupy('Anna.Rossi@Example.com', 'Anna', { fields: mailupyFields('Anna', 'Rossi') });
    let r = (await stored(id))!;
    assert.equal(r.recipient.email, 'anna.rossi@example.com');
    assert.equal(r.recipient.name, 'Anna');
    assert.deepEqual(r.recipient.fields, { 1: 'Anna', 2: 'Rossi' });
    assert.equal(await emailStatus(svc, id, a.list.id), 'subscribed');

    assert.equal(await subscribeAsMailupy('anna.rossi@example.com', 'Annina', { fields: mailupyFields('Annina') }), id);
    r = (await stored(id))!;
    assert.equal(r.recipient.name, 'Annina');
    assert.deepEqual(r.recipient.fields, { 1: 'Annina', 2: 'Rossi' }, 'a field left out keeps its value');
    assert.equal((await svc.db.query("SELECT id FROM recipient WHERE email = 'anna.rossi@example.com'")).length, 1);
  });

  test("mailupy's subscribe_to_group: the id; subscribed on the group's list and in the group", async () => {
    const group = a.groups[0]!;
    const answer = await mailupyCall(svc, token, 'POST', `/Group/${group.id}/Recipient`, { Name: 'Bruno', Email: 'bruno@example.com', Fields: mailupyFields('Bruno') });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /^\d+$/);
    const r = (await stored(answer.body as number))!;
    assert.deepEqual(r.groupIds, [group.id]);
    assert.equal(await emailStatus(svc, r.recipient.id, a.list.id), 'subscribed');
  });

  test('with MobilePrefix and MobileNumber (00 or +): one +digits number, answered split again', async () => {
    const answer = await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`,
      { Email: 'carla@example.com', Name: 'Carla', MobilePrefix: '0039', MobileNumber: '333 123 4567', Fields: [] });
    assert.equal(answer.status, 200, answer.text);
    const id = answer.body as number;
    assert.equal((await stored(id))!.recipient.mobile, '+393331234567');
    const listed = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/Subscribed?filterby=Email=='carla@example.com'`);
    assert.deepEqual([listed.body.Items[0]!.MobilePrefix, listed.body.Items[0]!.MobileNumber], ['+39', '3331234567']);
  });

  test('MobilePrefix "39" without + is the country code, as the bulk import reads it, also on a list with another country', async () => {
    assert.ok(await svc.service.store.lists.setListCountry(a.account.id, a.list.id, 'DE'));
    try {
      const single = await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`,
        { Email: 'prefix39@example.com', MobilePrefix: '39', MobileNumber: '3331234568', Fields: [] });
      assert.equal(single.status, 200, single.text);
      const bulk = await bulkImport(svc, token, `/List/${a.list.id}/Recipients`, [{ Email: 'prefix39-bulk@example.com', MobilePrefix: '39', MobileNumber: '3331234569', Fields: [] }]);
      assert.equal((await waitForImport(svc, token, bulk)).ImportedRecipients, 1);
      assert.deepEqual([(await stored(single.body as number))!.recipient.mobile, (await recipientState(svc, 'prefix39-bulk@example.com', a.list.id)).mobile],
        ['+393331234568', '+393331234569'], 'both doors read the prefix as the country code');
      // PUT Recipient/Detail reads it the same way.
      const put = await callRest(svc, token, 'PUT', '/Recipient/Detail',
        { idRecipient: single.body as number, Email: 'prefix39@example.com', MobilePrefix: '39', MobileNumber: '3331234570', Fields: [] });
      assert.equal(put.status, 200, put.text);
      assert.equal((await stored(single.body as number))!.recipient.mobile, '+393331234570');
    } finally {
      assert.ok(await svc.service.store.lists.setListCountry(a.account.id, a.list.id, null));
    }
  });

  test('key mismatch: an existing e-mail with another mobile number is refused with 400 naming both; nothing changes', async () => {
    const id = (await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`,
      { Email: 'dario@example.com', Name: 'Dario', MobilePrefix: '+39', MobileNumber: '3470000001' })).body as number;
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`,
      { Email: 'dario@example.com', Name: 'Dario', MobilePrefix: '+39', MobileNumber: '3470000002' }), 400,
    new RegExp(`Key mismatch: recipient ${id} \\(dario@example.com\\) has the mobile number MobilePrefix "\\+39", MobileNumber "3470000001", not MobilePrefix "\\+39", MobileNumber "3470000002"`));
    // The same number written another way is no mismatch.
    assert.equal((await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`,
      { Email: 'dario@example.com', Name: 'Dario', MobilePrefix: '0039', MobileNumber: '347 000 0001' })).body, id);
  });

  test('ConfirmEmail=True (mailupy) and =true: pending, a confirmation message in the outbox, whose link subscribes', async () => {
    const id = await subscribeAsMailupy('elena@example.com', 'Elena', { pending: true });
    assert.equal(await emailStatus(svc, id, a.list.id), 'pending');
    const pending = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/Pending`);
    assert.deepEqual(pending.body.Items.map((i) => i.Email), ['elena@example.com']);

    const message = (await outboxOf(svc, a)).find((m) => m.recipient === 'elena@example.com');
    assert.ok(message, 'the confirmation request was delivered at once');
    assert.equal(message.subject, 'Please confirm your subscription');
    const link = new RegExp(`(${PUBLIC_URL}/confirm/\\S+)`).exec(message.text)?.[1];
    assert.ok(link, message.text);
    assert.ok(message.html.includes(`href="${link}"`));
    const opened = await fetch(link.replace(PUBLIC_URL, svc.url));
    assert.equal(opened.status, 200);
    assert.equal(await emailStatus(svc, id, a.list.id), 'subscribed');
    const optin = (await callRest<Envelope<{ Status: string; Optin_Request_Date: string }>>(svc, token, 'GET',
      `/List/${a.list.id}/Recipients/EmailOptins?filterby=Email=='elena@example.com'`)).body.Items[0]!;
    assert.equal(optin.Status, 'OPTIN');
    assert.notEqual(optin.Optin_Request_Date, '', 'the request is dated');

    // Into a group, lower-case true; a subscribed recipient asked again stays subscribed and gets no second message.
    const group = a.groups[1]!;
    const viaGroup = await callRest(svc, token, 'POST', `/Group/${group.id}/Recipient?confirmemail=true`, { Email: 'fabio@example.com', Name: 'Fabio' });
    assert.equal(viaGroup.status, 200, viaGroup.text);
    assert.equal(await emailStatus(svc, viaGroup.body as number, a.list.id), 'pending');
    assert.deepEqual((await stored(viaGroup.body as number))!.groupIds, [group.id]);
    const messages = (await outboxOf(svc, a)).length;
    assert.equal(await subscribeAsMailupy('elena@example.com', 'Elena', { pending: true }), id);
    assert.equal(await emailStatus(svc, id, a.list.id), 'subscribed');
    assert.equal((await outboxOf(svc, a)).length, messages);
  });

  test('spec 2.7: an unsubscribed recipient stays unsubscribed when subscribed again, until POST List/{id}/Subscribe/{id}', async () => {
    const id = await subscribeAsMailupy('gino@example.com', 'Gino');
    const unsubscribed = await mailupyCall(svc, token, 'DELETE', `/List/${a.list.id}/Unsubscribe/${id}`);
    assert.equal(unsubscribed.status, 200);
    assert.equal(unsubscribed.text, '');
    assert.equal(await emailStatus(svc, id, a.list.id), 'unsubscribed');

    assert.equal(await subscribeAsMailupy('gino@example.com', 'Gino Bianchi', { fields: mailupyFields('Gino', 'Bianchi') }), id);
    assert.equal(await emailStatus(svc, id, a.list.id), 'unsubscribed', 'stays unsubscribed');
    assert.equal((await stored(id))!.recipient.name, 'Gino Bianchi', 'its data is still updated');
    assert.equal(await subscribeAsMailupy('gino@example.com', 'Gino', { pending: true }), id);
    assert.equal(await emailStatus(svc, id, a.list.id), 'unsubscribed', 'double opt-in does not bring it back either');
    assert.ok(!(await outboxOf(svc, a)).some((m) => m.recipient === 'gino@example.com'), 'and sends it nothing');
    const listed = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/Unsubscribed?filterby="Email=='gino@example.com'"`);
    assert.deepEqual(listed.body.Items.map((i) => i.idRecipient), [id]);

    const again = await callRest(svc, token, 'POST', `/List/${a.list.id}/Subscribe/${id}`);
    assert.equal(again.status, 200);
    assert.equal(again.text, '');
    assert.equal(await emailStatus(svc, id, a.list.id), 'subscribed');
    // Unsubscribing twice, or a recipient who is not on the list: still 200, nothing to do.
    assert.equal((await mailupyCall(svc, token, 'DELETE', `/List/${a.list.id}/Unsubscribe/${id}`)).status, 200);
    assert.equal((await mailupyCall(svc, token, 'DELETE', `/List/${a.list.id}/Unsubscribe/${id}`)).status, 200);
    assert.equal(await emailStatus(svc, id, a.list.id), 'unsubscribed');
  });

  test('after a bounce, POST List/{id}/Subscribe/{id} is refused with 400 and changes nothing', async () => {
    const id = await subscribeAsMailupy('hard.bounce@example.com', 'Bounced');
    const applied = await svc.service.store.recipients.applyRecipientChange(a.account.id, { id }, () => ({
      write: { data: {}, subscriptions: [{ listId: a.list.id, channel: 'email', status: 'unsubscribed', reason: 'bounce' }], leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [] },
      answer: null,
    }));
    assert.ok(applied.ok);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/List/${a.list.id}/Subscribe/${id}`), 400, /after a bounce/);
  });
});

describe('bad requests: 400 naming what is wrong, nothing stored', () => {
  const post = (body: unknown, query = '') => callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient${query}`, body);

  test('invalid e-mail, invalid mobile, no address, bad fields, bad members', async () => {
    await refusedAndUnchanged(() => post({ Email: 'not-an-address', Name: 'X' }), 400, /Email "not-an-address" is not a valid e-mail address/);
    await refusedAndUnchanged(() => post({ Email: `${'x'.repeat(60)}@example.com`, Name: 'X' }), 400, /is not a valid e-mail address .*at most 50/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', MobilePrefix: '+39', MobileNumber: '12' }), 400,
      /MobilePrefix "\+39" and MobileNumber "12" are not a valid mobile number/);
    await refusedAndUnchanged(() => post({ Name: 'Nobody', Email: '', Fields: [] }), 400, /no Email and no MobileNumber/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Fields: [{ Id: 40, Value: 'x' }] }), 400, /Fields\[0\]\.Id must be a whole number from 1 to 39, not the number 40/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Fields: [{ Id: 0, Value: 'x' }] }), 400, /from 1 to 39/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Fields: [{ Id: 3, Value: 'x'.repeat(201) }] }), 400, /Fields Id 3: the Value is not acceptable/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Fields: [{ Id: 4, Value: 'a\u0000b' }] }), 400, /Fields Id 4/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Name: 'bad\u0007name' }), 400, /Name cannot hold control characters/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Nmae: 'typo' }), 400, /Unknown member "Nmae"/);
    await refusedAndUnchanged(() => post({ Email: ['ok@example.com'] }), 400, /Email must be a string, not an array/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com', Fields: { Id: 1 } }), 400, /Fields must be an array/);
  });

  test('malformed JSON, no body, an array, unknown or malformed query parameters', async () => {
    await refusedAndUnchanged(() => post('{"Email": "ok@example.com",'), 400, /not valid JSON/);
    await refusedAndUnchanged(() => post('\u0000\u00ff garbage'), 400, /not valid JSON/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`), 400, /request body is empty/);
    await refusedAndUnchanged(() => post([{ Email: 'ok@example.com' }]), 400, /a recipient .* as a JSON object, not an array/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com' }, '?ConfirmEmial=true'), 400, /Unknown query parameter "ConfirmEmial"; this call takes ConfirmEmail/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com' }, '?ConfirmEmail=maybe'), 400, /ConfirmEmail must be true or false/);
    await refusedAndUnchanged(() => post({ Email: 'ok@example.com' }, '?ConfirmEmail=true&confirmemail=false'), 400, /given 2 times/);
    await refusedAndUnchanged(() => callRest(svc, token, 'DELETE', `/Recipients/1?force=1`), 400, /Unknown query parameter "force"; this call takes none/);
  });

  test('10 MB of garbage is refused before it is read whole, and nothing changes', async () => {
    await refusedAndUnchanged(() => post(Buffer.alloc(10 * 1024 * 1024, 0x7b)), 413, /larger than/);
  });
});

describe('PUT Recipient/Detail', () => {
  test("mailupy's update_customer_fields (Name, Email, Fields) → the full recipient with all 39 fields", async () => {
    const id = await subscribeAsMailupy('ivo@example.com', 'Ivo', { fields: mailupyFields('Ivo', 'Verdi') });
    const answer = await mailupyCall<RestRecipient>(svc, token, 'PUT', '/Recipient/Detail',
      { Name: 'Ivo', Email: 'ivo@example.com', Fields: [{ Description: 'città', Id: 4, Value: 'Roma' }] });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(Object.keys(answer.body), ['Email', 'Fields', 'MobileNumber', 'MobilePrefix', 'Name', 'idRecipient']);
    assert.equal(answer.body.idRecipient, id);
    assert.equal(answer.body.Email, 'ivo@example.com');
    assert.equal(answer.body.MobileNumber, null);
    assert.equal(answer.body.MobilePrefix, null);
    assert.equal(answer.body.Fields.length, 39);
    assert.deepEqual(answer.body.Fields.slice(0, 4), [
      { Description: 'nome', Id: 1, Value: 'Ivo' }, { Description: 'cognome', Id: 2, Value: 'Verdi' },
      { Description: 'azienda', Id: 3, Value: '' }, { Description: 'città', Id: 4, Value: 'Roma' },
    ]);
    assert.equal(await emailStatus(svc, id, a.list.id), 'subscribed', 'subscriptions do not change');
  });

  test("MailUp's samples: an item of GET Recipients/Subscribed sent back with one field changed; by idRecipient a new Email is written", async () => {
    const id = await subscribeAsMailupy('luca@example.com', 'Luca', { fields: mailupyFields('Luca', 'Neri') });
    await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient`, { Email: 'luca@example.com', Name: 'Luca', MobilePrefix: '+39', MobileNumber: '3201112233' });
    const listed = await mailupyCall<Envelope<RestRecipient>>(svc, token, 'GET',
      `/List/${a.list.id}/Recipients/Subscribed?${mailupyQuery({ filter_by: "Email=='luca@example.com'" })}`);
    const item = listed.body.Items[0]!;
    item.Fields.find((f) => f.Id === 3)!.Value = 'ACME';
    const put = await callRest<RestRecipient>(svc, token, 'PUT', '/Recipient/Detail', item);
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body, { ...item, Fields: item.Fields }, 'the answer is the item as changed');
    let r = (await stored(id))!.recipient;
    assert.deepEqual(r.fields, { 1: 'Luca', 2: 'Neri', 3: 'ACME' });
    assert.equal(r.mobile, '+393201112233', 'the mobile read back and sent back is the same number');

    // An EmailOptins item's members are read-only: accepted and ignored.
    const optin = (await callRest<Envelope<Record<string, unknown>>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/EmailOptins?filterby=idRecipient==${id}`)).body.Items[0]!;
    assert.equal((await callRest(svc, token, 'PUT', '/Recipient/Detail', { ...optin, Name: 'Luca N.' })).status, 200);
    assert.equal((await stored(id))!.recipient.name, 'Luca N.');

    // By idRecipient, the e-mail itself changes; a field sent empty keeps its value, one of white space only is cleared.
    const moved = await callRest<RestRecipient>(svc, token, 'PUT', '/Recipient/Detail',
      { idRecipient: id, Email: 'luca.neri@example.com', Name: 'Luca', Fields: [{ Id: 2, Value: '' }, { Id: 3, Value: ' ' }] });
    assert.equal(moved.status, 200, moved.text);
    r = (await stored(id))!.recipient;
    assert.equal(r.email, 'luca.neri@example.com');
    assert.deepEqual(r.fields, { 1: 'Luca', 2: 'Neri', 3: '' });
    assert.equal(moved.body.Fields[2]!.Value, '');
  });

  test('unknown recipient → 404; an e-mail another recipient has → 400; bad bodies → 400; nothing changes', async () => {
    const id = await subscribeAsMailupy('marco@example.com', 'Marco');
    await subscribeAsMailupy('nadia@example.com', 'Nadia');
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', { Email: 'nobody@example.com', Name: 'x' }), 404,
      /No recipient of this account has the Email "nobody@example.com"/);
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', { idRecipient: 999_999_999, Name: 'x' }), 404, /Recipient 999999999 does not exist/);
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', { idRecipient: id, Email: 'nadia@example.com' }), 400,
      /Email "nadia@example.com" belongs to another recipient of this account \(idRecipient \d+\)/);
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', { Name: 'nobody' }), 400, /no Email and no MobileNumber.*idRecipient/);
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', { idRecipient: id, Email: 'bad address' }), 400, /"bad address" is not a valid e-mail/);
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', { idRecipient: id, Fields: [{ Id: 99, Value: 'x' }] }), 400, /from 1 to 39/);
    await refusedAndUnchanged(() => callRest(svc, token, 'PUT', '/Recipient/Detail', '[]'), 400, /not an array/);
    // Another account's recipient is not found, whether named by id or by e-mail.
    await refusedAndUnchanged(() => callRest(svc, otherToken, 'PUT', '/Recipient/Detail', { idRecipient: id, Name: 'stolen' }), 404, /does not exist in this account/);
    await refusedAndUnchanged(() => callRest(svc, otherToken, 'PUT', '/Recipient/Detail', { Email: 'marco@example.com', Name: 'stolen' }), 404, /No recipient/);
  });
});

describe('groups, removal, and the 200 with an empty body', () => {
  test('POST Group/{id}/Subscribe/{id}, GET List/{id}/Recipient/{id}/Groups, DELETE Group/{id}/Unsubscribe/{id}', async () => {
    const id = await subscribeAsMailupy('olga@example.com', 'Olga');
    const [g1, g2] = a.groups;
    for (const g of [g2!, g1!]) {
      const joined = await callRest(svc, token, 'POST', `/Group/${g.id}/Subscribe/${id}`);
      assert.equal(joined.status, 200);
      assert.equal(joined.text, '');
    }
    assert.equal((await callRest(svc, token, 'POST', `/Group/${g1!.id}/Subscribe/${id}`)).status, 200, 'joining twice is fine');
    const groups = await callRest<Envelope<Record<string, unknown>>>(svc, token, 'GET', `/List/${a.list.id}/Recipient/${id}/Groups`);
    assert.equal(groups.status, 200);
    assert.deepEqual(groups.body, {
      IsPaginated: false,
      Items: [g1!, g2!].sort((x, y) => x.id - y.id).map((g) => ({ Count: null, Deletable: true, Name: g.name, Notes: '', idGroup: g.id, idList: a.list.id })),
      PageNumber: 0, PageSize: 20, Skipped: 0, TotalElementsCount: 2,
    });
    const named = await callRest<Envelope<{ Name: string }>>(svc, token, 'GET', `/List/${a.list.id}/Recipient/${id}/Groups?filterby=Name=='Group B'&orderby=idGroup desc`);
    assert.deepEqual(named.body.Items.map((g) => g.Name), ['Group B']);

    const left = await mailupyCall(svc, token, 'DELETE', `/Group/${g1!.id}/Unsubscribe/${id}`);
    assert.equal(left.status, 200);
    assert.equal(left.text, '');
    assert.deepEqual((await stored(id))!.groupIds, [g2!.id]);
    assert.equal(await emailStatus(svc, id, a.list.id), 'subscribed', 'leaving a group leaves the list as it was');
    assert.equal((await mailupyCall(svc, token, 'DELETE', `/Group/${g1!.id}/Unsubscribe/${id}`)).status, 200, 'leaving twice is fine');
  });

  test('DELETE List/{id}/Recipient/{id} takes it off the list and its groups; DELETE Recipients/{id} out of the account', async () => {
    const id = await subscribeAsMailupy('paolo@example.com', 'Paolo');
    const second = await svc.service.store.lists.createList(a.account.id, 'Alpha offers');
    await subscribeAsMailupy('paolo@example.com', 'Paolo', { list: second.id });
    await callRest(svc, token, 'POST', `/Group/${a.groups[0]!.id}/Subscribe/${id}`);

    const removed = await mailupyCall(svc, token, 'DELETE', `/List/${a.list.id}/Recipient/${id}`);
    assert.equal(removed.status, 200);
    assert.equal(removed.text, '');
    assert.equal(await emailStatus(svc, id, a.list.id), null);
    assert.equal(await emailStatus(svc, id, second.id), 'subscribed');
    assert.deepEqual((await stored(id))!.groupIds, []);
    const optins = await callRest<Envelope<unknown>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/EmailOptins?filterby=idRecipient==${id}`);
    assert.equal(optins.body.TotalElementsCount, 0);
    assert.equal((await mailupyCall(svc, token, 'DELETE', `/List/${a.list.id}/Recipient/${id}`)).status, 200, 'again: nothing to do');

    const gone = await mailupyCall(svc, token, 'DELETE', `/Recipients/${id}`);
    assert.equal(gone.status, 200);
    assert.equal(gone.text, '');
    assert.equal(await stored(id), null);
    await refusedAndUnchanged(() => mailupyCall(svc, token, 'DELETE', `/Recipients/${id}`), 404, new RegExp(`Recipient ${id} does not exist in this account`));
  });
});

describe('404: unknown ids, ids that are not numbers, and another account', () => {
  test("every call on another account's list, group or recipient is 404, as for an unknown one, and changes nothing", async () => {
    const id = await subscribeAsMailupy('quinto@example.com', 'Quinto');
    const list = a.list.id;
    const group = a.groups[0]!.id;
    const calls: [string, string, unknown?][] = [
      ['POST', `/List/${list}/Recipient`, { Email: 'x@example.com' }],
      ['POST', `/Group/${group}/Recipient`, { Email: 'x@example.com' }],
      ['GET', `/List/${list}/Recipients/Subscribed`],
      ['GET', `/List/${list}/Recipients/Unsubscribed`],
      ['GET', `/List/${list}/Recipients/Pending`],
      ['GET', `/List/${list}/Recipients/EmailOptins`],
      ['GET', `/Group/${group}/Recipients`],
      ['GET', `/List/${list}/Recipient/${id}/Groups`],
      ['POST', `/Group/${group}/Subscribe/${id}`],
      ['DELETE', `/Group/${group}/Unsubscribe/${id}`],
      ['POST', `/List/${list}/Subscribe/${id}`],
      ['DELETE', `/List/${list}/Unsubscribe/${id}`],
      ['DELETE', `/List/${list}/Recipient/${id}`],
      ['DELETE', `/Recipients/${id}`],
    ];
    for (const [method, path, body] of calls) {
      await refusedAndUnchanged(() => callRest(svc, otherToken, method, path, body), 404, /does not exist in this account/);
    }
    // B's own list with A's recipient, A's group with B's token: still 404.
    const own = b.list.id;
    for (const [method, path] of [['GET', `/List/${own}/Recipient/${id}/Groups`], ['POST', `/List/${own}/Subscribe/${id}`], ['DELETE', `/List/${own}/Unsubscribe/${id}`],
      ['DELETE', `/List/${own}/Recipient/${id}`], ['POST', `/Group/${b.groups[0]!.id}/Subscribe/${id}`]] as const) {
      await refusedAndUnchanged(() => callRest(svc, otherToken, method, path), 404, new RegExp(`Recipient ${id} does not exist in this account`));
    }
  });

  test('unknown and non-numeric ids', async () => {
    const id = await subscribeAsMailupy('rita@example.com', 'Rita');
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', '/List/999999999/Recipient', { Email: 'x@example.com' }), 404, /List 999999999 does not exist/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', '/Group/999999999/Recipient', { Email: 'x@example.com' }), 404, /Group 999999999 does not exist/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', '/List/abc/Recipient', { Email: 'x@example.com' }), 404, /idList "abc"/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/Group/999999999/Subscribe/${id}`), 404, /Group 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/Group/${a.groups[0]!.id}/Subscribe/999999999`), 404, /Recipient 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'DELETE', `/Group/${a.groups[0]!.id}/Unsubscribe/0`), 404, /idRecipient "0"/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/List/999999999/Subscribe/${id}`), 404, /List 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'POST', `/List/${a.list.id}/Subscribe/999999999`), 404, /Recipient 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'DELETE', `/List/${a.list.id}/Unsubscribe/999999999`), 404, /Recipient 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'DELETE', `/List/${a.list.id}/Recipient/999999999`), 404, /Recipient 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'DELETE', '/Recipients/-5'), 404, /idRecipient "-5"/);
    await refusedAndUnchanged(() => callRest(svc, token, 'GET', `/List/${a.list.id}/Recipient/999999999/Groups`), 404, /Recipient 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'GET', '/List/999999999/Recipients/Subscribed'), 404, /List 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'GET', '/Group/999999999/Recipients'), 404, /Group 999999999/);
    await refusedAndUnchanged(() => callRest(svc, token, 'GET', `/List/${a.list.id}/Recipients/Everyone`), 404, /No resource/);
  });

  test('no token, a wrong token: 401 before anything is read', async () => {
    await refusedAndUnchanged(() => callRest(svc, null, 'POST', `/List/${a.list.id}/Recipient`, { Email: 'x@example.com' }), 401, /Access token is missing/);
    await refusedAndUnchanged(() => callRest(svc, 'not-a-token', 'DELETE', '/Recipients/1'), 401, /not valid/);
  });
});
