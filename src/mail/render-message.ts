/**
 * Fills a confirmation message for one recipient. Placeholders, in the subject and both bodies:
 *
 * - `[confirm_link]`: the recipient's confirm link;
 * - `[email]`: the recipient's address;
 * - `[campoN]`: the recipient's field N (`[campo1]`, `[campo2]`, …), empty when not set.
 *
 * Names are matched without regard to case; anything else in brackets is left as written. Values
 * are escaped in the HTML part (a field may hold `<script>`), written as they are in the text
 * part, and kept on one line in the subject, so no value can add a header.
 */
import { escapeHtml } from '../xml/escape.ts';

export interface MessageTemplate {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface RecipientValues {
  readonly email: string;
  readonly fields: Readonly<Record<number, string>>;
}

export type RenderedMessage = MessageTemplate;

const PLACEHOLDER = /\[(confirm_link|email|campo(\d{1,4}))\]/gi;

function fill(template: string, recipient: RecipientValues, confirmLink: string, encode: (value: string) => string): string {
  return template.replace(PLACEHOLDER, (_match, name: string, n: string | undefined) => {
    const key = name.toLowerCase();
    const value = key === 'confirm_link' ? confirmLink : key === 'email' ? recipient.email : recipient.fields[Number(n)] ?? '';
    return encode(value);
  });
}

const oneLine = (s: string): string => s.replace(/[\r\n\t]+/g, ' ');

export function renderConfirmation(template: MessageTemplate, recipient: RecipientValues, confirmLink: string): RenderedMessage {
  return {
    subject: oneLine(fill(template.subject, recipient, confirmLink, oneLine)).trim(),
    html: fill(template.html, recipient, confirmLink, escapeHtml),
    text: fill(template.text, recipient, confirmLink, (v) => v),
  };
}
