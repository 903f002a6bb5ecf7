/**
 * A runnable tour of the client: the lists, a group, an import in batches with progress, and
 * what a refused call looks like. Against any WSMailUpImport endpoint (this repository's server
 * or MailUp):
 *
 *   MAILUP_ENDPOINT=http://localhost:8080 MAILUP_USER=a1001 MAILUP_PASSWORD=… \
 *     node --import tsx client/examples/quickstart.ts
 *
 * In your own project, import from 'mailup-import-client' instead of '../src/index.ts'.
 */
import { MailUpImportClient, MailUpReturnCodeError, importSubscribers } from '../src/index.ts';

const { MAILUP_ENDPOINT, MAILUP_USER, MAILUP_PASSWORD } = process.env;
if (!MAILUP_ENDPOINT || !MAILUP_USER || !MAILUP_PASSWORD) throw new Error('set MAILUP_ENDPOINT, MAILUP_USER and MAILUP_PASSWORD');

const client = new MailUpImportClient({ endpoint: MAILUP_ENDPOINT, user: MAILUP_USER, password: MAILUP_PASSWORD });

// Every MailUp call needs a list's id and GUID: GetNlLists gives both.
const [list] = await client.getNlLists();
if (!list) throw new Error('the account has no list');
console.log(`list ${list.idList} "${list.listName}" ${list.listGUID}, ${list.groups.length} groups`);

const idGroup = await client.createGroup({ idList: list.idList, listGUID: list.listGUID, newGroupName: 'Quickstart' });
console.log(`group "Quickstart" is ${idGroup}`);

// 25 subscribers in batches of 10: three NewImportProcess calls, one StartImportProcesses.
const subscribers = Array.from({ length: 25 }, (_, i) => ({ email: `quickstart-${i}@example.com`, fields: [`Name ${i}`] }));
const report = await importSubscribers(client, subscribers, {
  idList: list.idList, listGUID: list.listGUID, groups: [idGroup], batchSize: 10, pollIntervalMs: 200,
  onProgress: (p) => {
    if (p.event.type === 'process-finished') console.log(`process ${p.event.details.idProcess} ${p.event.details.status}: ${p.event.details.totalContacts} rows`);
  },
});
console.log(`import ${report.outcome}: ${report.counters.newEmail} new, ${report.counters.existingEmail} existing`);

// A refused call throws a typed error with the ReturnCode and its documented meaning.
try {
  await client.getProcessDetails({ idList: list.idList, listGUID: list.listGUID, idProcess: 2_000_000_000 });
} catch (err) {
  if (!(err instanceof MailUpReturnCodeError)) throw err;
  console.log(`ReturnCode ${err.returnCode}: ${err.meaning}`);
}
