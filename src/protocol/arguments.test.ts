import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { convertValue, withDefaults } from './arguments.ts';
import { ProtocolError } from './faults.ts';
import type { ParamSpec } from './operations.ts';

const INT: ParamSpec = { name: 'idList', type: 'int', minOccurs: 1 };
const BOOL: ParamSpec = { name: 'asOptOut', type: 'boolean', minOccurs: 1 };
const STRING: ParamSpec = { name: 'newGroupName', type: 'string', minOccurs: 0 };

/** Asserts that converting `text` is the fault ASMX gives for a value it cannot deserialize. */
function assertFault(spec: ParamSpec, text: string, status = 500): ProtocolError {
  let caught: unknown;
  try {
    convertValue(spec, text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ProtocolError, `${JSON.stringify(text)} was accepted`);
  assert.equal(caught.faultCode, 'Client');
  assert.equal(caught.httpStatus, status, JSON.stringify(text));
  assert.ok(caught.message.includes(spec.name), caught.message);
  return caught;
}

const XML_SPACE = fc.stringMatching(/^[ \t\r\n]{0,3}$/);

test('ints: decimal digits with an optional sign and XML white space around them', () => {
  const cases: [string, number][] = [
    ['42', 42], [' 42 ', 42], ['\t12\r\n', 12], ['+7', 7], ['-15', -15], ['0', 0], ['00012', 12],
    ['2147483647', 2147483647], ['-2147483648', -2147483648],
  ];
  for (const [text, n] of cases) assert.equal(convertValue(INT, text), n, JSON.stringify(text));
  assert.ok(Object.is(convertValue(INT, '-0'), 0), '"-0" is 0, not -0');
  assert.ok(Object.is(convertValue(INT, '+0'), 0));
});

test('ints: overflow, empty, white space only and garbage are faults with HTTP 500', () => {
  for (const text of [
    '', ' ', '\n', '2147483648', '-2147483649', '99999999999999999999999', '1.5', '1e3', '0x10', '12abc', 'abc',
    '+-1', '--1', '1 2', '١٢', '\u00a012', '12\u2003', 'NaN', 'Infinity', '½',
  ]) assertFault(INT, text);
});

test('ints: every 32-bit value round-trips, with any white space; anything beyond the range is refused', () => {
  fc.assert(fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), XML_SPACE, XML_SPACE, (n, before, after) => {
    assert.ok(Object.is(convertValue(INT, `${before}${n}${after}`), n));
  }));
  fc.assert(fc.property(fc.oneof(fc.bigInt({ min: 2147483648n, max: 10n ** 30n }), fc.bigInt({ min: -(10n ** 30n), max: -2147483649n })), (n) => {
    assertFault(INT, String(n));
  }));
});

test('booleans: true/false/1/0 only, with XML white space around them', () => {
  for (const [text, value] of [['true', true], ['1', true], [' true\n', true], ['false', false], ['0', false], ['\t0 ', false]] as const) {
    assert.equal(convertValue(BOOL, text), value, JSON.stringify(text));
  }
  for (const text of ['', ' ', 'True', 'FALSE', 'yes', 'no', 'on', '2', '-1', '01', 't', '\u00a0true']) assertFault(BOOL, text);
});

test('strings are kept exactly, white space and markup characters included', () => {
  for (const text of ['', '  padded  ', 'a & b <c> "d"', 'Città €', '😀', 'line\nbreak\ttab']) {
    assert.equal(convertValue(STRING, text), text);
  }
});

test('a string with a character XML cannot carry is refused with HTTP 400', () => {
  for (const text of ['a\u0000b', '\u0001', 'x\u001f', '\u000b', '\uffff', 'a\ufffeb']) assertFault(STRING, text, 400);
});

test('the fault message quotes at most 40 characters of the value, never half a character', () => {
  const long = `${'9'.repeat(39)}😀${'9'.repeat(1000)}`;
  const err = assertFault(INT, long);
  assert.ok(err.message.includes(`"${'9'.repeat(39)}😀…"`), err.message);
  assert.ok(err.message.length < 120);
  assert.doesNotMatch(err.message, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
});

test('withDefaults fills missing parameters as XmlSerializer does (0, false, null) and drops the feed', () => {
  assert.deepEqual(withDefaults('NewImportProcess', {}), {
    idList: 0, listGUID: null, idGroups: null, importType: 0, mobileInputType: 0,
    asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
  });
  assert.deepEqual(withDefaults('CreateGroup', { idList: 7, newGroupName: '', somethingElse: 'x', xmlDoc: 'ignored' }), {
    idList: 7, listGUID: null, newGroupName: '',
  });
  assert.deepEqual(withDefaults('GetNlLists', { idList: 3 }), {});
  assert.deepEqual(withDefaults('StartImportProcesses', { listsIDs: '1;2', asOptOut: true }), {
    listsIDs: '1;2', listsGUIDs: null, groupsIDs: null, importType: 0, mobileInputType: 0,
    asPending: false, ConfirmEmail: false, asOptOut: true, forceOptIn: false, replaceGroups: false,
  });
});
