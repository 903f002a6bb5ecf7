import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvFields, flag, guidList, idList, readParams } from './parameters.ts';

test('parameters from the query and the body, names in any case, + as a space; one name with two values is refused', () => {
  const p = readParams('/frontend/x.aspx?List=1&EMAIL=a+b%40x.it&source=form', 'listguid=G&Email=a b@x.it')!;
  assert.deepEqual([...p], [['list', '1'], ['email', 'a b@x.it'], ['source', 'form'], ['listguid', 'G']]);
  assert.equal(readParams('/x?list=1&List=2', ''), null);
  assert.equal(readParams('/x?list=1', 'LIST=2'), null);
  assert.deepEqual([...readParams('/x', '')!], []);
});

test('ids, flags, GUIDs and csv fields', () => {
  assert.deepEqual(idList('1, 2,3'), [1, 2, 3]);
  assert.deepEqual(idList(''), []);
  assert.equal(idList('1,,2'), null);
  assert.equal(idList('0'), null);
  assert.equal(idList('-1'), null);
  assert.deepEqual(idList('1;2', /[,;]/), [1, 2]);
  assert.deepEqual(['1', 'TRUE', '0', 'false', '', 'yes'].map((t) => flag(t, true)), [true, true, false, false, true, null]);
  assert.deepEqual(guidList('BD4E719A-E85E-4A70-80D1-2DEB11C1A42C'), ['bd4e719a-e85e-4a70-80d1-2deb11c1a42c']);
  assert.equal(guidList('e347gh87347gh374hg34'), null);
  const fields = (names: string | undefined, values: string | undefined, refuseDoubleDash = false) =>
    csvFields(new Map([...(names === undefined ? [] : [['csvfldnames', names]]), ...(values === undefined ? [] : [['csvfldvalues', values]])] as [string, string][]), { refuseDoubleDash });
  assert.deepEqual(fields('campo1;Campo12', 'a;'), { 1: 'a', 12: '' });
  assert.deepEqual(fields(undefined, undefined), {});
  assert.equal(fields('campo1;campo2', 'only'), null);
  assert.equal(fields(undefined, 'orphan'), null);
  assert.equal(fields('campo1;campo1', 'a;b'), null);
  assert.equal(fields('nome', 'x'), null);
  assert.deepEqual(fields('campo1', 'a--b'), { 1: 'a--b' });
  assert.equal(fields('campo1', 'a--b', true), null);
});
