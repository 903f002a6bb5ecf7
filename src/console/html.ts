/**
 * The console's only way to build HTML: the `html` tagged template escapes every interpolated
 * value unless it is already `Html` (another template's output, or text explicitly passed through
 * `raw()`). Arrays are joined, and null, undefined and false render as nothing, so conditionals
 * and loops read naturally:
 *
 *   html`<li class="${kind}">${name}</li>`
 *   html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`
 *   html`${error && html`<p class="error">${error}</p>`}`
 *
 * Quotes are escaped too, so a value is safe inside a quoted attribute. Attribute values must
 * always be quoted, and links are built by `consoleUrl` (./urls.ts) from our own paths, never
 * taken from data, so no `javascript:` URL can get in.
 */
import { escapeHtml } from '../xml/escape.ts';

/** Markup that is already safe to emit. Only `html` and `raw` make it. */
export class Html {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  toString(): string {
    return this.#value;
  }
}

/** A value an `html` template accepts. */
export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup, emitted as is: only for constant strings and markup built by this module. */
export function raw(markup: string): Html {
  return new Html(markup);
}
