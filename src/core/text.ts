/**
 * Text the service keeps must be text: no control characters but tab, line feed and carriage
 * return (the only ones an XML document can carry, so the only ones MailUp's own interfaces can
 * send), and never U+0000, which PostgreSQL cannot store.
 */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const hasControlCharacter = (s: string): boolean => CONTROL.test(s);
