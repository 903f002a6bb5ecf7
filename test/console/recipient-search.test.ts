/**
 * The store's console queries against a plain-SQL oracle: keyset pages of a recipient search,
 * forward and back, must list exactly the recipients a straightforward query finds, in the same
 * order; list statistics and the streamed CSV export must agree with it too. The data comes from
 * real imports over SOAP, on the store TEST_STORE names (npm test runs it on both); the oracle
 * reads it with SQL both engines accept.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubscriptionStatus } from '../../src/model/subscription.ts';
import type { RecipientFilter } from '../../src/store/queries.ts';
import type { Store } from '../../src/store/store.ts';
import type { Channel } from '../../src/model/subscription.ts';
import { callSoap, feedXml, resultFields, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let store: Store;
let acc: TestAccount;
let other: TestAccount;
let secondList: { id: number; guid: string };

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const person = (i: number): { email: string; Number?: string; fields: string[] } => ({
  email: `p${pad(i, 3)}@example.com`, fields: [`Person ${i}`], ...(i % 3 === 0 ? { Number: `+39 333 000 ${pad(i, 4)}` } : {}),
});

async function runImport(target: TestAccount, list: { id: number; guid: string }, rows: Parameters<typeof feedXml>[0],
  options: { groups?: string; flags?: Record<string, boolean> } = {}): Promise<void> {
  const auth = { User: target.user, Password: target.password };
  const start = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: list.id, listsGUIDs: list.guid, groupsIDs: options.groups ?? '', xmlDoc: feedXml(rows), importType: 3, mobileInputType: 1,
    asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, ...options.flags,
  }, auth);
  assert.equal(start.returnCode, 0, start.body);
  const id = Number(/<processID>(\d+)<\/processID>/.exec(start.result!)![1]);
  for (;;) {
    const r = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: list.id, listGUID: list.guid, idProcess: id }, auth);
    if (resultFields(r.result!).StatusCode === '3') return;
    await new Promise((res) => setTimeout(res, 50));
  }
}

before(async () => {
  svc = await startTestService();
  store = svc.service.store;
  acc = await svc.addAccount({ listName: 'Main' });
  other = await svc.addAccount({ listName: 'Elsewhere' });
  const list = { id: acc.list.id, guid: acc.list.guid };
  const l2 = await store.lists.createList(acc.account.id, 'Second');
  secondList = { id: l2.id, guid: l2.guid };
  const people = Array.from({ length: 120 }, (_, i) => person(i));
  await runImport(acc, list, people.slice(0, 60), { groups: String(acc.groups[0]!.id) });
  await runImport(acc, list, people.slice(60), { groups: String(acc.groups[1]!.id) });
  // Mobile numbers alone: subscribed on SMS only.
  await runImport(acc, list, Array.from({ length: 9 }, (_, i) => ({ Number: `+39 347 000 00${pad(i, 2)}` })));
  await runImport(acc, list, people.filter((_, i) => i % 4 === 0), { flags: { asOptOut: true } });
  await runImport(acc, list, Array.from({ length: 10 }, (_, i) => ({ email: `q${i}@example.com` })), { flags: { ConfirmEmail: true } });
  await runImport(acc, secondList, people.filter((_, i) => i % 5 === 0));
  // The same addresses in another account must never show up.
  await runImport(other, { id: other.list.id, guid: other.list.guid }, people.slice(0, 30));
});

after(() => svc.close());

interface OracleRow {
  id: number;
  email: string | null;
  mobile: string | null;
  subs: { list: number; channel: Channel; status: SubscriptionStatus }[];
  groups: number[];
}

/** Every recipient of the account, read with plain queries (no keyset, no index hints). */
async function oracle(accountId: number): Promise<OracleRow[]> {
  const rows = await svc.db.query<{ id: number; email: string | null; mobile: string | null }>(
    'SELECT id, email, mobile FROM recipient WHERE account_id = ?', [accountId]);
  const subs = await svc.db.query<{ recipient_id: number; list_id: number; channel: Channel; status: SubscriptionStatus }>(
    'SELECT s.recipient_id, s.list_id, s.channel, s.status FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id WHERE r.account_id = ?', [accountId]);
  const groups = await svc.db.query<{ recipient_id: number; group_id: number }>(
    'SELECT m.recipient_id, m.group_id FROM membership m JOIN recipient r ON r.id = m.recipient_id WHERE r.account_id = ?', [accountId]);
  return rows.map((r) => ({
    id: Number(r.id), email: r.email, mobile: r.mobile,
    subs: subs.filter((s) => Number(s.recipient_id) === Number(r.id)).map((s) => ({ list: Number(s.list_id), channel: s.channel, status: s.status })),
    groups: groups.filter((g) => Number(g.recipient_id) === Number(r.id)).map((g) => Number(g.group_id)),
  }));
}

function expected(all: readonly OracleRow[], f: RecipientFilter, groupLists: ReadonlyMap<number, number>): number[] {
  const list = f.groupId !== undefined ? groupLists.get(f.groupId) : f.listId;
  if (f.groupId !== undefined && f.listId !== undefined && list !== f.listId) return [];
  const hits = all.filter((r) =>
    (f.emailPrefix === undefined || (r.email ?? '').startsWith(f.emailPrefix) && r.email !== null) &&
    (f.mobilePrefix === undefined || (r.mobile !== null && r.mobile.startsWith(f.mobilePrefix))) &&
    (f.groupId === undefined || r.groups.includes(f.groupId)) &&
    ((list === undefined && f.channel === undefined && f.status === undefined) || r.subs.some((s) =>
      (list === undefined || s.list === list) && (f.channel === undefined || s.channel === f.channel) && (f.status === undefined || s.status === f.status))));
  const byText = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  if (f.emailPrefix !== undefined) hits.sort((x, y) => byText(x.email!, y.email!));
  else if (f.mobilePrefix !== undefined) hits.sort((x, y) => byText(x.mobile!, y.mobile!) || x.id - y.id);
  else hits.sort((x, y) => x.id - y.id);
  return hits.map((r) => r.id);
}

test('keyset pages of every kind of search list exactly what a plain query finds, forward and back', async () => {
  const all = await oracle(acc.account.id);
  const groupLists = new Map(acc.groups.map((g) => [g.id, g.listId]));
  const [g1, g2] = acc.groups;
  const filters: RecipientFilter[] = [
    {}, { listId: acc.list.id }, { listId: acc.list.id, status: 'unsubscribed' }, { listId: acc.list.id, channel: 'sms' },
    { listId: acc.list.id, channel: 'email', status: 'subscribed' }, { listId: acc.list.id, status: 'pending' },
    { listId: acc.list.id, channel: 'sms', status: 'subscribed' }, { listId: acc.list.id, status: 'subscribed' }, { groupId: g1!.id }, { groupId: g2!.id, status: 'unsubscribed', channel: 'email' },
    { emailPrefix: 'p0' }, { emailPrefix: 'p', listId: secondList.id }, { emailPrefix: 'q', status: 'pending' }, { mobilePrefix: '+39333000' },
    { mobilePrefix: '+393330001', listId: acc.list.id }, { status: 'pending' }, { channel: 'sms' }, { listId: secondList.id },
    { groupId: g1!.id, listId: secondList.id }, { listId: other.list.id }, { emailPrefix: 'nobody' },
  ];
  for (const filter of filters) {
    const want = expected(all, filter, groupLists);
    const label = JSON.stringify(filter);
    // Forward, 7 at a time.
    const pages: number[][] = [];
    const cursors: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.queries.searchRecipients(acc.account.id, filter, { limit: 7, ...(after ? { after } : {}) });
      pages.push(page.items.map((r) => r.id));
      cursors.push(page.items[0]?.cursor ?? '');
      assert.equal(page.hasPrevious, after !== undefined, label);
      if (!page.hasNext) break;
      after = page.items.at(-1)!.cursor;
    }
    assert.deepEqual(pages.flat(), want, label);
    assert.ok(pages.slice(0, -1).every((p) => p.length === 7), label);
    // Back from the last page to the first.
    const back: number[][] = [pages.at(-1)!];
    let before = cursors.at(-1)!;
    for (let i = pages.length - 2; i >= 0; i--) {
      const page = await store.queries.searchRecipients(acc.account.id, filter, { limit: 7, before });
      back.unshift(page.items.map((r) => r.id));
      assert.equal(page.hasNext, true, label);
      assert.equal(page.hasPrevious, i > 0, label);
      before = page.items[0]!.cursor;
    }
    assert.deepEqual(back, pages, label);
  }
  // A cursor of another kind of search, or garbage, starts over at the first page.
  const first = await store.queries.searchRecipients(acc.account.id, {}, { limit: 3 });
  const email = await store.queries.searchRecipients(acc.account.id, { emailPrefix: 'p' }, { limit: 3 });
  for (const after of [email.items[0]!.cursor, 'not-a-cursor', Buffer.from('["i","1; DROP TABLE recipient"]').toString('base64url')]) {
    assert.deepEqual((await store.queries.searchRecipients(acc.account.id, {}, { limit: 3, after })).items.map((r) => r.id), first.items.map((r) => r.id));
  }
});

test('list statistics count recipients by channel and status, for the list and for each group', async () => {
  const all = await oracle(acc.account.id);
  const [stats] = await store.queries.listStats(acc.account.id, [acc.list.id]);
  const count = (rows: readonly OracleRow[], channel: Channel, status: SubscriptionStatus): number =>
    rows.filter((r) => r.subs.some((s) => s.list === acc.list.id && s.channel === channel && s.status === status)).length;
  const members = all.filter((r) => r.subs.some((s) => s.list === acc.list.id));
  assert.equal(stats!.recipients, members.length);
  for (const channel of ['email', 'sms'] as const) {
    for (const status of ['subscribed', 'pending', 'unsubscribed'] as const) {
      assert.equal(stats!.counts[channel][status], count(all, channel, status), `${channel} ${status}`);
      for (const g of stats!.groups) {
        assert.equal(g.counts[channel][status], count(all.filter((r) => r.groups.includes(g.groupId)), channel, status), `group ${g.groupId} ${channel} ${status}`);
      }
    }
  }
  assert.deepEqual(stats!.groups.map((g) => g.members), acc.groups.map((grp) => all.filter((r) => r.groups.includes(grp.id)).length));
  assert.equal(stats!.counts.email.pending, 10);
  assert.deepEqual(await store.queries.listStats(acc.account.id, [other.list.id]), []);
});

test('the CSV export streams every recipient of the list once, from one snapshot, while the store stays usable', async () => {
  const all = await oracle(acc.account.id);
  const want = all.filter((r) => r.subs.some((s) => s.list === acc.list.id)).sort((x, y) => x.id - y.id);
  const exported = await store.queries.exportList(acc.account.id, acc.list.id);
  assert.ok(exported);
  assert.deepEqual(exported.fieldNumbers, [1]);
  const rows: { id: number; email: string | null; emailStatus: string | null; smsStatus: string | null }[] = [];
  let changedMeanwhile = false;
  for await (const r of exported.rows) {
    rows.push(r);
    if (!changedMeanwhile) {
      // Half-way through a read, the store still answers, and a new recipient joins the list.
      changedMeanwhile = true;
      assert.equal((await store.lists.listLists(acc.account.id)).length, 2);
      await runImport(acc, { id: acc.list.id, guid: acc.list.guid }, [{ email: 'late@example.com' }]);
    }
  }
  assert.deepEqual(rows.map((r) => r.id), want.map((r) => r.id));
  for (const r of rows) {
    const o = want.find((w) => w.id === r.id)!;
    assert.equal(r.emailStatus, o.subs.find((s) => s.list === acc.list.id && s.channel === 'email')?.status ?? null);
    assert.equal(r.smsStatus, o.subs.find((s) => s.list === acc.list.id && s.channel === 'sms')?.status ?? null);
  }
  const again = await store.queries.exportList(acc.account.id, acc.list.id);
  let n = 0;
  for await (const r of again!.rows) {
    n++;
    if (r.email === 'late@example.com') break;
  }
  assert.equal(n, want.length + 1);
  again!.close();
  assert.equal(await store.queries.exportList(other.account.id, acc.list.id), null);
});
