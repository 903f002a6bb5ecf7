/**
 * Escaping for the XML and HTML this service writes.
 *
 * `escapeText` is what .NET's XmlWriter does to text: `&`, `<` and `>` are escaped, quotes are not.
 * Clients such as MailUp's classic ASP include split SOAP responses on `ReturnCode&gt;`, so `>`
 * must be escaped too. `escapeAttribute` also escapes quotes and the white space that attribute
 * normalisation would otherwise fold.
 */
// CR is written as a reference so that it survives parsing (a raw CR would become LF).
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/g;
const REPLACEMENTS: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};
const replace = (c: string): string => REPLACEMENTS[c]!;

export function escapeText(s: string): string {
  return s.replace(TEXT_SPECIAL, replace);
}

export function escapeAttribute(s: string): string {
  return s.replace(ATTRIBUTE_SPECIAL, replace);
}

const HTML_SPECIAL = /[&<>"']/g;
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML (the console, confirm pages, confirmation mails): safe in text and in quoted attribute values alike. */
export function escapeHtml(s: string): string {
  return s.replace(HTML_SPECIAL, (c) => HTML_ENTITIES[c]!);
}

const NON_ASCII = /[^\x00-\x7f]/gu;

/**
 * Writes every non-ASCII character as a numeric character reference, so that a document that
 * declares `windows-1252` is pure ASCII and the declaration can never be a lie (DESIGN.md).
 */
export function asciiOnly(s: string): string {
  return s.replace(NON_ASCII, (c) => {
    const code = c.codePointAt(0)!;
    // A lone surrogate is no character at all: write the replacement character instead.
    return `&#${code >= 0xd800 && code <= 0xdfff ? 0xfffd : code};`;
  });
}
