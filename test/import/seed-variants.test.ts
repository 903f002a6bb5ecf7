/**
 * The GetProcessDetails page this project started from (test/fixtures/GetProcessDetails.seed.txt)
 * shows three answers. Real imports must reproduce each one field by field: the same elements in
 * the same order, the same formats, and the values the import implies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

const seed = readFileSync(new URL('../fixtures/GetProcessDetails.seed.txt', import.meta.url), 'utf8');

/** The documented responses, in page order, without their comments, as [element, value] lists. */
function documentedSamples(): [string, string][][] {
  return [...seed.matchAll(/<ImportProcess idProcess="\d+">([\s\S]*?)<\/ImportProcess>/g)]
    .filter((m) => m[1]!.includes('<StatusCode>')) // the Ruby example's "..." is not a sample
    .map((m) =>
    [...m[1]!.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((f) => [f[1]!, f[2]!]));
}

function answered(result: string): [string, string][] {
  const inner = /<ImportProcess idProcess="\d+">([\s\S]*?)<\/ImportProcess>/.exec(result)![1]!;
  return [...inner.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((f) => [f[1]!, f[2]!]);
}

const DATE = /^\d{2}\/\d{2}\/\d{4} \d{2}\.\d{2}\.\d{2}$/;

/** Same elements, same order; dates in the documented format; every other value as expected. */
function compare(actual: [string, string][], sample: [string, string][], expected: Record<string, string>): void {
  assert.deepEqual(actual.map(([k]) => k), sample.map(([k]) => k), 'element names and order as documented');
  for (const [name, value] of actual) {
    if (name === 'StartDate' || name === 'EndDate') assert.match(value, DATE, name);
    else assert.equal(value, expected[name] ?? sample.find(([k]) => k === name)![1], name);
  }
}

let svc: TestService;
let a: TestAccount;
before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
});
after(() => svc.close());

async function runImport(xmlDoc: string, ConfirmEmail: boolean): Promise<[string, string][]> {
  const auth = { User: a.user, Password: a.password };
  const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: String(a.list.id), listsGUIDs: a.list.guid, xmlDoc, groupsIDs: '', importType: 3, mobileInputType: 2,
    asPending: false, ConfirmEmail, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, auth);
  assert.equal(reply.returnCode, 0, reply.body);
  const id = Number(/<processID>(\d+)/.exec(reply.result!)![1]);
  return answered((await waitForProcess(svc.endpoint, auth, a.list.id, a.list.guid, id)).result!);
}

test('the seed page documents three variants', () => {
  assert.equal(documentedSamples().length, 3);
});

test('variant A: no confirmation requested — ConfirmationEmail False, ConfirmationSent empty', async () => {
  const [sample] = documentedSamples();
  // The documented sample imported nothing: an empty feed does the same.
  compare(await runImport('<subscribers></subscribers>', false), sample!, {});
});

test('variant B: confirmation requested, not sent — ConfirmationEmail True, ConfirmationSent False', async () => {
  const [, sample] = documentedSamples();
  // One new recipient with e-mail and mobile: NewEmail 1 and NewMobile 1, as documented. Every row
  // counts in TotalContacts (DESIGN.md), so it is 1 where the documented sample oddly shows 0.
  const feed = feedXml([{ email: 'seed-b@example.com', Prefix: '+39', Number: '3331234567', fields: ['Anna'] }]);
  compare(await runImport(feed, true), sample!, { TotalContacts: '1' });
  const pending = await svc.service.store.processes.listProcesses(a.account.id, { limit: 1 });
  assert.equal(pending[0]!.confirmationsPending, 1, 'one confirmation request waits in the queue');
});
