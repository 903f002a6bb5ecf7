import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyQuery, parseFilter, parseOrder, type QueryFields } from './query-expression.ts';

const FIELDS: QueryFields = { Name: 'string', Email: 'string', idGroup: 'number', Deletable: 'boolean' };

const filter = (text: string) => {
  const parsed = parseFilter(text, FIELDS);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
};

const refusal = (text: string): string => {
  const parsed = parseFilter(text, FIELDS);
  assert.ok(!parsed.ok, `${text} was accepted`);
  return parsed.error;
};

test("filterby: the clients' forms, with or without wrapping double quotes", () => {
  assert.deepEqual(filter("Email=='a@b.c'"), [{ field: 'Email', op: 'equals', value: 'a@b.c' }]);
  assert.deepEqual(filter('"Name.Contains(\'News\')"'), [{ field: 'Name', op: 'contains', value: 'News' }]);
  assert.deepEqual(filter('  "  Name == "News"  "  '), [{ field: 'Name', op: 'equals', value: 'News' }], 'double-quoted values inside the wrapper');
  assert.deepEqual(filter('idGroup==12'), [{ field: 'idGroup', op: 'equals', value: 12 }]);
  assert.deepEqual(filter('Deletable==True'), [{ field: 'Deletable', op: 'equals', value: true }]);
  assert.deepEqual(filter("name=='x' and IDGROUP==3 && Email.Contains('@')"), [
    { field: 'Name', op: 'equals', value: 'x' }, { field: 'idGroup', op: 'equals', value: 3 }, { field: 'Email', op: 'contains', value: '@' },
  ], 'field names in any case, answered in the resource spelling; and / &&');
  assert.deepEqual(filter("Name=='O''Brien'"), [{ field: 'Name', op: 'equals', value: "O'Brien" }], 'a doubled quote inside');
  assert.deepEqual(filter("Name=='a and b==c'"), [{ field: 'Name', op: 'equals', value: 'a and b==c' }]);
  assert.deepEqual(filter(''), []);
  assert.deepEqual(filter('   '), []);
  assert.deepEqual(parseFilter(null, FIELDS), { ok: true, value: [] });
});

test('filterby: everything outside the subset is refused, naming the part not understood', () => {
  assert.match(refusal("Name=='x' or Name=='y'"), /expected "and" or the end of the filter at position 11 \("or Name=='y'"\)/);
  assert.match(refusal("Name!='x'"), /expected == or \.Contains\( after Name at position 5/);
  assert.match(refusal("Name.StartsWith('x')"), /the method "StartsWith" at position 6 .* is not supported/);
  assert.match(refusal("Colour=='red'"), /unknown field "Colour"; the fields of this resource are Name, Email, idGroup, Deletable/);
  assert.match(refusal("Name=='x"), /a quoted value that never ends at position 7/);
  assert.match(refusal("idGroup=='3'"), /idGroup is a number; compare it without quotes/);
  assert.match(refusal('Name==3'), /Name is a string; quote the value/);
  assert.match(refusal('idGroup.Contains(\'1\')'), /Contains works on text fields; idGroup is a number/);
  assert.match(refusal("Name.Contains(Name)"), /Contains takes one quoted value at position 15/);
  assert.match(refusal("Name.Contains('x'"), /expected \) after the value of Contains at the end/);
  assert.match(refusal("Name=='x' and"), /expected a field name at the end/);
  assert.match(refusal('Name=='), /expected a value after Name== at the end/);
  assert.match(refusal("(Name=='x')"), /expected a field name at position 1/);
  assert.match(refusal("Name=='x'; drop table"), /";" at position 10 is not understood/);
  assert.match(refusal('Deletable==yes'), /expected a value after Deletable==/);
  for (const text of ["Name=='x' or Name=='y'", 'Colour==1']) assert.match(refusal(text), /^filterby: .*supported: Field=='value'/);
});

test('orderby: fields with asc or desc, several joined by ; or ,', () => {
  assert.deepEqual(parseOrder('Name asc;idGroup desc', FIELDS), { ok: true, value: [{ field: 'Name', direction: 'asc' }, { field: 'idGroup', direction: 'desc' }] });
  assert.deepEqual(parseOrder('"name DESC, email"', FIELDS), { ok: true, value: [{ field: 'Name', direction: 'desc' }, { field: 'Email', direction: 'asc' }] });
  assert.deepEqual(parseOrder('', FIELDS), { ok: true, value: [] });
  assert.deepEqual(parseOrder('Name asc;', FIELDS), { ok: true, value: [{ field: 'Name', direction: 'asc' }] });
  const bad = (text: string): string => {
    const parsed = parseOrder(text, FIELDS);
    assert.ok(!parsed.ok);
    return parsed.error;
  };
  assert.match(bad('Name up'), /orderby: "up" is not asc or desc in "Name up"/);
  assert.match(bad('Colour asc'), /unknown field "Colour"/);
  assert.match(bad('Name asc desc'), /expected a field and asc or desc/);
});

test('applyQuery: filters with every condition, case-sensitive; orders by several fields, stable', () => {
  const items = [
    { Name: 'News', Email: 'a@x.it', idGroup: 3, Deletable: true },
    { Name: 'news', Email: 'b@x.it', idGroup: 1, Deletable: true },
    { Name: 'Offers', Email: 'c@y.it', idGroup: 2, Deletable: false },
    { Name: 'News', Email: 'd@y.it', idGroup: 2, Deletable: true },
  ];
  const get = (item: object, field: string): unknown => (item as Record<string, unknown>)[field];
  const order = (text: string) => {
    const parsed = parseOrder(text, FIELDS);
    assert.ok(parsed.ok);
    return parsed.value;
  };
  const run = (f: string, o = '') => applyQuery(items, { filter: filter(f), order: order(o) }, get).map((i) => i.Email);
  assert.deepEqual(run("Name=='News'"), ['a@x.it', 'd@y.it'], 'equality is case-sensitive');
  assert.deepEqual(run("Name.Contains('ew')"), ['a@x.it', 'b@x.it', 'd@y.it']);
  assert.deepEqual(run("Name.Contains('EW')"), [], 'Contains is case-sensitive');
  assert.deepEqual(run("Email.Contains('@y') and idGroup==2 and Deletable==true"), ['d@y.it']);
  assert.deepEqual(run('', 'idGroup asc;Email desc'), ['b@x.it', 'd@y.it', 'c@y.it', 'a@x.it']);
  assert.deepEqual(run('', 'Name desc'), ['b@x.it', 'c@y.it', 'a@x.it', 'd@y.it'], 'code point order; ties keep their order');
});
