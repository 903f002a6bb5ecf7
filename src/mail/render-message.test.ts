import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIRMATION } from '../core/confirmations.ts';
import { escapeHtml } from '../xml/escape.ts';
import { renderConfirmation } from './render-message.ts';

const link = 'https://lists.example.com/confirm/MS4yLjMuNA.abc?x=1&y=2';

test('placeholders are filled in the subject and both bodies', () => {
  const out = renderConfirmation({
    subject: 'Hi [campo1], confirm [email]',
    html: '<p>Dear [campo1] [campo2]</p><a href="[confirm_link]">confirm</a>',
    text: 'Dear [campo1] [campo2]\n[confirm_link]\n',
  }, { email: 'anna@example.com', fields: { 1: 'Anna', 2: 'Rossi' } }, link);
  assert.equal(out.subject, 'Hi Anna, confirm anna@example.com');
  assert.equal(out.html, '<p>Dear Anna Rossi</p><a href="https://lists.example.com/confirm/MS4yLjMuNA.abc?x=1&amp;y=2">confirm</a>');
  assert.equal(out.text, `Dear Anna Rossi\n${link}\n`);
});

test('values are escaped in the HTML part only, and kept on one line in the subject', () => {
  const evil = '<script>alert("x")</script> & \'q\'';
  const out = renderConfirmation({ subject: '[campo1]', html: '<b title="[campo1]">[campo1]</b>', text: '[campo1]' },
    { email: 'a@example.com', fields: { 1: `${evil}\r\nBcc: victim@example.com` } }, link);
  assert.doesNotMatch(out.html, /<script>/);
  const escaped = `${escapeHtml(evil)}\r\nBcc: victim@example.com`;
  assert.equal(out.html, `<b title="${escaped}">${escaped}</b>`);
  assert.equal(out.text, `${evil}\r\nBcc: victim@example.com`);
  assert.doesNotMatch(out.subject, /[\r\n]/);
  assert.equal(out.subject, `${evil} Bcc: victim@example.com`);
});

test('unknown placeholders stay as written; a missing field is empty; names ignore case', () => {
  const out = renderConfirmation({ subject: '[CAMPO3]|[Email]|[name]|[campo]', html: '[Confirm_Link]', text: '[campo9]x' },
    { email: 'a@example.com', fields: { 3: 'three' } }, link);
  assert.equal(out.subject, 'three|a@example.com|[name]|[campo]');
  assert.equal(out.html, escapeHtml(link));
  assert.equal(out.text, 'x');
});

test('the default message created with every account carries the link in both parts', () => {
  const out = renderConfirmation({ ...DEFAULT_CONFIRMATION }, { email: 'a@example.com', fields: {} }, link);
  assert.ok(out.html.includes(`href="${escapeHtml(link)}"`));
  assert.ok(out.text.includes(link));
  assert.ok(!out.text.includes('[confirm_link]') && !out.html.includes('[confirm_link]'));
});
