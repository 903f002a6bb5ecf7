/**
 * Reads an `application/x-www-form-urlencoded` body (the HTTP POST binding) as a stream, so a
 * large `xmlDoc` field goes to its sink chunk by chunk like the SOAP one. Ordinary fields are
 * bounded; percent-escapes and UTF-8 sequences may be split across chunks.
 */
import { clientFault, tooLarge } from './faults.ts';
import type { TextSink } from './soap-request.ts';

const MAX_NAME = 256;
const MAX_VALUE = 1 << 20;

export interface FormFields {
  readonly fields: Map<string, string>;
  readonly streamedPresent: boolean;
}

function hex(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

export async function decodeForm(
  body: AsyncIterable<Buffer | string>,
  limit: number,
  streamedName: string | null,
  openStream: () => TextSink,
): Promise<FormFields> {
  const fields = new Map<string, string>();
  let sink: TextSink | null = null;
  let inName = true;
  let name: number[] = [];
  let fieldName = '';
  let value: Buffer = Buffer.allocUnsafe(65536);
  let valueLength = 0;
  let percent: number[] | null = null;
  let decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  let streaming = false;
  let received = 0;

  const decode = (bytes: Buffer, final: boolean): string => {
    try {
      return decoder.decode(bytes, { stream: !final });
    } catch {
      throw clientFault('The form body is not valid UTF-8.', 400);
    }
  };
  const flushValue = (final: boolean): void => {
    const chunk = decode(value.subarray(0, valueLength), final);
    valueLength = 0;
    if (streaming) {
      if (chunk) sink!.write(chunk);
    } else {
      text += chunk;
      if (text.length > MAX_VALUE) throw clientFault('A form field is too long.', 413);
    }
  };
  const pushByte = (b: number): void => {
    if (inName) {
      if (name.length >= MAX_NAME) throw clientFault('A form field name is too long.', 400);
      name.push(b);
      return;
    }
    if (valueLength === value.length) flushValue(false);
    value[valueLength++] = b;
  };
  const endName = (): void => {
    fieldName = decode(Buffer.from(name), true);
    decoder = new TextDecoder('utf-8', { fatal: true });
    inName = false;
    if (fieldName === streamedName) {
      if (sink !== null) throw clientFault(`Field ${fieldName} appears more than once.`, 400);
      sink = openStream();
      streaming = true;
    }
  };
  const endField = (): void => {
    if (inName && name.length === 0) return;
    if (inName) endName();
    flushValue(true);
    if (!streaming) fields.set(fieldName, text);
    streaming = false;
    text = '';
    name = [];
    inName = true;
    decoder = new TextDecoder('utf-8', { fatal: true });
  };

  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    received += chunk.length;
    if (received > limit) throw tooLarge(limit);
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (percent !== null) {
        percent.push(b);
        if (percent.length === 2) {
          const h = hex(percent[0]!);
          const l = hex(percent[1]!);
          if (h < 0 || l < 0) throw clientFault('Malformed percent-escape in the form body.', 400);
          pushByte(h * 16 + l);
          percent = null;
        }
      } else if (b === 0x25 /* % */) percent = [];
      else if (b === 0x26 /* & */) endField();
      else if (b === 0x3d /* = */ && inName) endName();
      else pushByte(b === 0x2b /* + */ ? 0x20 : b);
    }
    if (streaming) {
      flushValue(false);
      await sink!.flush();
    }
  }
  if (percent !== null) throw clientFault('Malformed percent-escape in the form body.', 400);
  endField();
  if (sink) await (sink as TextSink).flush();
  return { fields, streamedPresent: sink !== null };
}
