import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { makeDateFormatter, mailupMessage } from '../../src/protocol/mailup-message.ts';
import { RESULT_BUILDERS } from '../../src/protocol/operation-results.ts';
import type { ImportProcess } from '../../src/model/records.ts';
import { MailUpReturnCodeError } from './errors.ts';
import { RETURN_CODES } from './generated/operations.ts';
import { InvalidResultError, parseMailUpDate, parseResult, zonedTime } from './result-parser.ts';

const rome = { timeZone: 'Europe/Rome' };

/** The three GetProcessDetails responses of MailUp's documentation page (test/fixtures). */
const documented = readFileSync(new URL('../../test/fixtures/GetProcessDetails.seed.txt', import.meta.url), 'utf8')
  .split('\n').filter((line) => line.startsWith('<mailupMessage>'));

test('reads the documented GetProcessDetails samples', () => {
  assert.equal(documented.length, 3);
  const [plain, queued, sent] = documented.map((sample) => parseResult('GetProcessDetails', sample, rome));
  assert.deepEqual(plain, {
    idProcess: 275,
    startDate: new Date('2012-10-30T14:39:12Z'), // CET, the day after summer time ended
    endDate: new Date('2012-10-30T14:39:24Z'),
    totalContacts: 0, newEmail: 0, newMobile: 0, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0,
    statusCode: 3, status: 'completed', isRunning: false, confirmationEmail: false, confirmationSent: null,
  });
  assert.equal(queued!.startDate!.toISOString(), '2013-06-14T08:36:19.000Z'); // CEST
  assert.equal(queued!.newEmail, 1);
  assert.equal(queued!.confirmationEmail, true);
  assert.equal(queued!.confirmationSent, false);
  assert.equal(sent!.confirmationSent, true);
});

test('dates: dots or colons, the old yyyy-MM-dd form, empty for none, in the configured zone', () => {
  assert.equal(parseMailUpDate('30/10/2012 15:39:12', 'Europe/Rome')!.toISOString(), '2012-10-30T14:39:12.000Z');
  assert.equal(parseMailUpDate('2008-01-16', 'Europe/Rome')!.toISOString(), '2008-01-15T23:00:00.000Z');
  assert.equal(parseMailUpDate('1/2/2020 3.04.05', 'UTC')!.toISOString(), '2020-02-01T03:04:05.000Z');
  assert.equal(parseMailUpDate('30/10/2012 15.39.12', 'America/New_York')!.toISOString(), '2012-10-30T19:39:12.000Z');
  assert.equal(parseMailUpDate(' ', 'Europe/Rome'), null);
  for (const bad of ['yesterday', '32/01/2020 10.00.00', '10/13/2020', '01/01/2020 25.00.00']) {
    assert.throws(() => parseMailUpDate(bad, 'Europe/Rome'), InvalidResultError, bad);
  }
});

test('wall times around daylight-saving changes', () => {
  // 27/10/2024 02:30 happens twice in Rome: the earlier (summer time) instant is taken.
  assert.equal(zonedTime(2024, 10, 27, 2, 30, 0, 'Europe/Rome').toISOString(), '2024-10-27T00:30:00.000Z');
  assert.equal(zonedTime(2024, 10, 27, 4, 0, 0, 'Europe/Rome').toISOString(), '2024-10-27T03:00:00.000Z');
  // 31/03/2024 02:30 does not exist in Rome: read with the offset before the change.
  assert.equal(zonedTime(2024, 3, 31, 2, 30, 0, 'Europe/Rome').toISOString(), '2024-03-31T01:30:00.000Z');
  assert.equal(zonedTime(2024, 3, 31, 0, 30, 0, 'Europe/Rome').toISOString(), '2024-03-30T23:30:00.000Z');
});

function processRow(start: Date, end: Date, status: 1 | 2 | 3 | 4, confirm: boolean, sentAt: Date | null): ImportProcess {
  return {
    id: 42, accountId: 1, listId: 1, feedId: 1, status, queued: false, runId: null, createdAt: start, startDate: start, endDate: end,
    totalContacts: 9, counters: { newEmail: 1, newMobile: 2, existingEmail: 3, existingMobile: 4, optOutEmail: 5, optOutMobile: 6 },
    checkpoint: 9, rejected: 0, failureReason: null, confirmationSentAt: sentAt,
    options: { groupIds: [], importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: confirm, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0 },
  };
}

test('reads what the server writes, in any time zone, to the second', () => {
  const zones = ['Europe/Rome', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
  fc.assert(fc.property(
    fc.date({ min: new Date('2000-01-01'), max: new Date('2037-12-31'), noInvalidDate: true }),
    fc.integer({ min: 0, max: 86_400 }), fc.constantFrom(...zones), fc.constantFrom(1, 2, 3, 4) as fc.Arbitrary<1 | 2 | 3 | 4>,
    fc.boolean(), fc.boolean(),
    (start, seconds, timeZone, status, confirm, sent) => {
      const startDate = new Date(Math.floor(start.getTime() / 1000) * 1000);
      const endDate = new Date(startDate.getTime() + seconds * 1000);
      const result = RESULT_BUILDERS.GetProcessDetails({ process: processRow(startDate, endDate, status, confirm, sent ? endDate : null) }, { formatDate: makeDateFormatter(timeZone) });
      const p = parseResult('GetProcessDetails', result, { timeZone });
      const finished = status >= 3;
      // Same wall time in the zone; within the hour repeated when summer time ends, the earlier instant.
      const wall = makeDateFormatter(timeZone);
      assert.equal(wall(p.startDate!), wall(startDate));
      assert.ok(p.startDate!.getTime() <= startDate.getTime());
      if (finished) assert.equal(wall(p.endDate!), wall(endDate));
      else assert.equal(p.endDate, null);
      assert.deepEqual(
        [p.idProcess, p.totalContacts, p.newEmail, p.newMobile, p.existingEmail, p.existingMobile, p.optOutEmail, p.optOutMobile, p.statusCode],
        [42, 9, 1, 2, 3, 4, 5, 6, status],
      );
      assert.equal(p.status, ['waiting', 'running', 'completed', 'failed'][status - 1]);
      assert.equal(p.isRunning, status === 2);
      assert.equal(p.confirmationEmail, confirm);
      assert.equal(p.confirmationSent, confirm ? sent : null);
    },
  ), { numRuns: 300 });
});

test('reads the documented GetNlLists sample and names with the documented unescaped & and "', () => {
  const sample = `<?xml version="1.0" encoding="windows-1252" ?>
<mailupMessage>
	<mailupBody>
		<ReturnCode>0</ReturnCode>
		<Lists>
			<List idList="1" listGUID="66af9900-7dd7-4cca-9125-beadaf345659" listName="News">
				<Groups>
					<Group idGroup="3" groupName="MY FIRST IMPORT" />
					<Group idGroup="22" groupName="Preferred Customers" />
				</Groups>
			</List>
			<List idList="2" listGUID="F9168C5E-CEB2-4FAA-B6BF-329BF39FA1E4" listName="Fish & Chips "Club"">
				<Groups />
			</List>
		</Lists>
	</mailupBody>
</mailupMessage>`;
  assert.deepEqual(parseResult('GetNlLists', sample, rome), [
    { idList: 1, listGUID: '66af9900-7dd7-4cca-9125-beadaf345659', listName: 'News', groups: [
      { idGroup: 3, groupName: 'MY FIRST IMPORT' }, { idGroup: 22, groupName: 'Preferred Customers' },
    ] },
    { idList: 2, listGUID: 'F9168C5E-CEB2-4FAA-B6BF-329BF39FA1E4', listName: 'Fish & Chips "Club"', groups: [] },
  ]);
});

test('GetNlLists as the server writes it: escaped names, non-ASCII as character references', () => {
  const name = 'Caffè & "Friends" <€ 😀>';
  const result = RESULT_BUILDERS.GetNlLists({ lists: [{ id: 7, accountId: 1, guid: 'db00a7d9-295e-4ecd-b871-67fa18902018', name, country: null, groups: [{ id: 9, listId: 7, name: 'Già' }] }] }, { formatDate: makeDateFormatter('UTC') });
  assert.match(result, /^<\?xml version="1.0" encoding="windows-1252" \?>/);
  assert.deepEqual(parseResult('GetNlLists', result, rome), [
    { idList: 7, listGUID: 'db00a7d9-295e-4ecd-b871-67fa18902018', listName: name, groups: [{ idGroup: 9, groupName: 'Già' }] },
  ]);
});

test('StartImportProcesses: one <process> per process, or several triplets in one; a negative one throws', () => {
  const server = RESULT_BUILDERS.StartImportProcesses({ processes: [{ processId: 696, listId: 4 }, { processId: 697, listId: 5 }] }, { formatDate: makeDateFormatter('UTC') });
  assert.deepEqual(parseResult('StartImportProcesses', server, rome), [{ idProcess: 696, idList: 4 }, { idProcess: 697, idList: 5 }]);
  const magento = '<mailupMessage><mailupBody><ReturnCode>0</ReturnCode><processes><process><processID>1</processID><listID>4</listID><ReturnCode>0</ReturnCode><processID>2</processID><listID>4</listID><ReturnCode>0</ReturnCode></process></processes></mailupBody></mailupMessage>';
  assert.deepEqual(parseResult('StartImportProcesses', magento, rome), [{ idProcess: 1, idList: 4 }, { idProcess: 2, idList: 4 }]);
  assert.deepEqual(parseResult('StartImportProcesses', mailupMessage(0), rome), []);
  const failed = '<mailupMessage><mailupBody><ReturnCode>0</ReturnCode><processes><process><processID>8</processID><listID>4</listID><ReturnCode>-402</ReturnCode></process></processes></mailupBody></mailupMessage>';
  assert.throws(() => parseResult('StartImportProcesses', failed, rome), (err: unknown) =>
    err instanceof MailUpReturnCodeError && err.returnCode === -402 && err.idProcess === 8 && err.operation === 'StartImportProcesses');
});

test('IdUser as an element (this server) or as the ReturnCode (create-style)', () => {
  assert.equal(parseResult('GetIdWsUser', RESULT_BUILDERS.GetIdWsUser({ idUser: 1234 }, { formatDate: makeDateFormatter('UTC') }), rome), 1234);
  assert.equal(parseResult('GetIdUser', mailupMessage(77), rome), 77);
  assert.equal(parseResult('NewImportProcess', mailupMessage(17), rome), 17);
  assert.equal(parseResult('CreateGroup', mailupMessage(12), rome), 12);
  assert.equal(parseResult('StartProcess', mailupMessage(0), rome), undefined);
});

test('every documented negative ReturnCode throws with its meaning; others say they are undocumented', () => {
  for (const [code, meaning] of Object.entries(RETURN_CODES)) {
    assert.throws(() => parseResult('GetNlLists', mailupMessage(Number(code)), rome), (err: unknown) =>
      err instanceof MailUpReturnCodeError && err.returnCode === Number(code) && err.meaning === meaning &&
      err.code === 'MAILUP_RETURN_CODE' && err.message === `GetNlLists answered ReturnCode ${code}: ${meaning}`);
  }
  assert.throws(() => parseResult('StartProcess', mailupMessage(-777), rome), { returnCode: -777, meaning: 'undocumented ReturnCode' });
});

test('results that are not mailupMessage documents are InvalidResultError', () => {
  for (const bad of ['', 'hello', '<mailupMessage><mailupBody></mailupBody></mailupMessage>', '<mailupMessage><mailupBody><ReturnCode>x</ReturnCode></mailupBody></mailupMessage>']) {
    assert.throws(() => parseResult('GetNlLists', bad, rome), InvalidResultError, bad);
  }
  assert.throws(() => parseResult('GetProcessDetails', mailupMessage(0), rome), /no ImportProcess/);
  assert.throws(
    () => parseResult('GetProcessDetails', '<mailupMessage><mailupBody><ReturnCode>0</ReturnCode><ImportProcess idProcess="1"><StartDate>soon</StartDate></ImportProcess></mailupBody></mailupMessage>', rome),
    /not a date/,
  );
});
