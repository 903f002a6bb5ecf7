import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeFormat } from './time-format.ts';

test('times for people name their zone: its abbreviation, or its offset when it has none', () => {
  const winter = new Date('2026-12-07T13:05:09.900Z');
  const summer = new Date('2026-07-07T13:05:09Z');
  assert.equal(timeFormat('Europe/Rome').text(winter), '2026-12-07 14:05:09 CET');
  assert.equal(timeFormat('Europe/Rome').text(summer), '2026-07-07 15:05:09 CEST');
  assert.equal(timeFormat('UTC').text(winter), '2026-12-07 13:05:09 UTC');
  assert.equal(timeFormat('America/New_York').text(winter), '2026-12-07 08:05:09 EST');
  assert.equal(timeFormat('America/New_York').text(summer), '2026-07-07 09:05:09 EDT');
  assert.equal(timeFormat('Europe/London').text(summer), '2026-07-07 14:05:09 BST');
  assert.equal(timeFormat('Asia/Kolkata').text(winter), '2026-12-07 18:35:09 UTC+05:30');
  assert.equal(timeFormat('America/Sao_Paulo').text(winter), '2026-12-07 10:05:09 UTC-03:00');
});

test('times for programs are ISO 8601 with the offset of the zone', () => {
  const winter = new Date('2026-12-07T13:05:09Z');
  assert.equal(timeFormat('Europe/Rome').iso(winter), '2026-12-07T14:05:09+01:00');
  assert.equal(timeFormat('Europe/Rome').iso(new Date('2026-07-07T13:05:09Z')), '2026-07-07T15:05:09+02:00');
  assert.equal(timeFormat('UTC').iso(winter), '2026-12-07T13:05:09+00:00');
  assert.equal(timeFormat('Asia/Kolkata').iso(winter), '2026-12-07T18:35:09+05:30');
  assert.equal(timeFormat('America/New_York').iso(winter), '2026-12-07T08:05:09-05:00');
  // The ISO form is the same instant, to the second.
  for (const zone of ['Europe/Rome', 'Asia/Kolkata', 'America/New_York']) {
    assert.equal(new Date(timeFormat(zone).iso(winter)).getTime(), winter.getTime(), zone);
  }
});

test('the change to and from summer time falls on the right second', () => {
  const rome = timeFormat('Europe/Rome');
  assert.equal(rome.text(new Date('2026-03-29T00:59:59Z')), '2026-03-29 01:59:59 CET');
  assert.equal(rome.text(new Date('2026-03-29T01:00:00Z')), '2026-03-29 03:00:00 CEST');
  assert.equal(rome.text(new Date('2026-10-25T00:59:59Z')), '2026-10-25 02:59:59 CEST');
  assert.equal(rome.text(new Date('2026-10-25T01:00:00Z')), '2026-10-25 02:00:00 CET');
});

test('the wall-clock time agrees with Intl for times spread over years and zones', () => {
  const zones = ['Europe/Rome', 'America/Los_Angeles', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'];
  for (const timeZone of zones) {
    const intl = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    const format = timeFormat(timeZone);
    for (let t = Date.UTC(2019, 0, 1); t < Date.UTC(2031, 0, 1); t += 79_191_137) {
      const date = new Date(t);
      const parts = Object.fromEntries(intl.formatToParts(date).map((p) => [p.type, p.value]));
      const expected = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
      assert.equal(format.text(date).slice(0, 19), expected, `${timeZone} ${date.toISOString()}`);
    }
  }
});
