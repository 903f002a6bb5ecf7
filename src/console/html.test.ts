import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeHtml } from '../xml/escape.ts';
import { html, raw } from './html.ts';

test('every interpolated value is escaped, in text and in quoted attributes', () => {
  const name = `<script>alert("x")</script> & 'friends'`;
  assert.equal(
    html`<p title="${name}">${name}</p>`.toString(),
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;">' +
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;friends&#39;</p>',
  );
});

test('markup from html and raw passes through; arrays join; null, undefined and false vanish', () => {
  const items = ['a<b', 'c'];
  assert.equal(html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.toString(), '<ul><li>a&lt;b</li><li>c</li></ul>');
  assert.equal(html`${raw('<hr>')}${null}${undefined}${false}${0}${html`<b>${'&'}</b>`}`.toString(), '<hr>0<b>&amp;</b>');
  // A string is never trusted, even one that looks like markup built elsewhere.
  assert.equal(html`${'<b>bold</b>'}`.toString(), '&lt;b&gt;bold&lt;/b&gt;');
});

test('no string can break out of a quoted attribute or into a tag (property)', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    const out = html`<a title="${s}">${s}</a>`.toString();
    const inner = out.slice('<a title="'.length, out.length - '</a>'.length);
    assert.ok(!/[<>'"]/.test(escapeHtml(s)));
    assert.equal(inner.split('">').length, 2);
  }));
});
