/**
 * The streaming SOAP request decoder: the streamed `xmlDoc` parameter, the envelope rules, and
 * properties over hostile input (arbitrary bytes, mutated valid envelopes): every outcome is a
 * decoded request or a ProtocolError, and every call settles.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeSoapRequest, SOAP_ENVELOPE_NS, type Credentials, type DecodeOptions, type DecodedRequest, type SoapVersion, type TextSink } from './soap-request.ts';
import { ProtocolError } from './faults.ts';
import { SERVICE_NAMESPACE, type OperationName } from './operations.ts';
import { escapeText } from '../xml/escape.ts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function envelope(version: SoapVersion, body: string, header = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS[version]}" xmlns:xsi="${XSI}">` +
    `${header === '' ? '' : `<soap:Header>${header}</soap:Header>`}<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

const auth = (user: string, password: string): string =>
  `<Authentication xmlns="${SERVICE_NAMESPACE}"><User>${user}</User><Password>${password}</Password><encType></encType></Authentication>`;

const CONTENT_TYPE: Record<SoapVersion, string> = { '1.1': 'text/xml; charset=utf-8', '1.2': 'application/soap+xml; charset=utf-8' };

/** A sink that records what it receives and how it was called. */
class RecordingSink implements TextSink {
  readonly writes: string[] = [];
  flushes = 0;
  /** True while a flush is pending: the decoder must not read on meanwhile (backpressure). */
  flushing = false;

  write(text: string): void {
    this.writes.push(text);
  }

  async flush(): Promise<void> {
    this.flushes++;
    this.flushing = true;
    await new Promise((resolve) => setImmediate(resolve));
    this.flushing = false;
  }
}

interface Decoded {
  readonly request: DecodedRequest;
  readonly sink: RecordingSink | null;
  readonly opened: { operation: OperationName; credentials: Credentials | null }[];
}

/** Decodes `body`: chunks as a stream, or one Buffer as a body read whole (a short request). */
async function decode(body: Iterable<Buffer> | AsyncIterable<Buffer> | Buffer, options: Partial<DecodeOptions> & { version?: SoapVersion } = {}): Promise<Decoded> {
  const version = options.version ?? '1.1';
  let sink: RecordingSink | null = null;
  const opened: Decoded['opened'] = [];
  const request = await decodeSoapRequest(Buffer.isBuffer(body) ? body : toAsync(body), {
    version,
    action: null,
    contentType: CONTENT_TYPE[version],
    bodyLimit: 64 * 1024 * 1024,
    openStream: (operation, credentials) => {
      opened.push({ operation, credentials });
      return (sink = new RecordingSink());
    },
    ...options,
  });
  return { request, sink, opened };
}

async function* toAsync(body: Iterable<Buffer> | AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* body;
}

/** `bytes` cut into pieces of `size` bytes (multi-byte characters are cut too). */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function fault(body: string | Buffer, options: Partial<DecodeOptions> & { version?: SoapVersion } = {}, message?: RegExp): Promise<ProtocolError> {
  try {
    await decode([Buffer.from(body)], options);
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail('expected a ProtocolError');
}

// ---------------------------------------------------------------------------------------------

describe('the streamed xmlDoc parameter', () => {
  const feed = '<subscribers>\n' + Array.from({ length: 1500 }, (_, i) =>
    `<subscriber email="u${i}@example.com" Name="Città &amp; ${i}"><campo1>Rossi & Figli <${i}> €😀</campo1></subscriber>`).join('\n') + '\n</subscribers>';
  const body = Buffer.from(envelope('1.1', `<NewImportProcess xmlns="${SERVICE_NAMESPACE}"><idList>7</idList><xmlDoc>${escapeText(feed)}</xmlDoc><importType>1</importType></NewImportProcess>`, auth('a1234', 'p&amp;ss')));

  test('reaches the sink in several chunks, entities decoded, and concatenates to the original', async () => {
    for (const size of [64 * 1024, 1000, 13]) {
      const { request, sink, opened } = await decode(pieces(body, size));
      assert.ok(sink !== null);
      assert.ok(sink.writes.length > 1, `chunks of ${size}: ${sink.writes.length} write(s)`);
      assert.equal(sink.writes.join(''), feed);
      assert.equal(request.operation, 'NewImportProcess');
      assert.equal(request.streamedPresent, true);
      assert.deepEqual(request.args, { idList: 7, importType: 1 });
      assert.equal('xmlDoc' in request.args, false);
      // The header precedes the body, so the sink is opened with the credentials.
      assert.deepEqual(opened, [{ operation: 'NewImportProcess', credentials: { User: 'a1234', Password: 'p&ss', encType: '' } }]);
    }
  });

  test('streams: the sink has text before the body has been read, and each flush is awaited', async () => {
    const chunks = pieces(body, 16 * 1024);
    let sink: RecordingSink | null = null;
    let receivedBeforeEnd = 0;
    async function* slowBody(): AsyncGenerator<Buffer> {
      for (const [i, c] of chunks.entries()) {
        assert.equal(sink?.flushing ?? false, false, 'read on while the sink was still flushing');
        if (i === chunks.length - 1) receivedBeforeEnd = sink?.writes.join('').length ?? 0;
        yield c;
      }
    }
    await decodeSoapRequest(slowBody(), {
      version: '1.1', action: null, contentType: CONTENT_TYPE['1.1'], bodyLimit: body.length,
      openStream: () => (sink = new RecordingSink()),
    });
    assert.ok(receivedBeforeEnd > feed.length / 2, `only ${receivedBeforeEnd} characters before the last chunk`);
    assert.ok(sink!.flushes >= chunks.length - 2);
  });

  test('an omitted xmlDoc is reported as absent, an empty one as present', async () => {
    const omitted = await decode([Buffer.from(envelope('1.1', `<StartImportProcesses xmlns="${SERVICE_NAMESPACE}"><listsIDs>1</listsIDs></StartImportProcesses>`))]);
    assert.equal(omitted.request.streamedPresent, false);
    assert.equal(omitted.sink, null);
    const empty = await decode([Buffer.from(envelope('1.1', `<StartImportProcesses xmlns="${SERVICE_NAMESPACE}"><xmlDoc/></StartImportProcesses>`))]);
    assert.equal(empty.request.streamedPresent, true);
    assert.deepEqual(empty.sink!.writes, []);
  });

  test('a second xmlDoc, or an element inside it, is a fault', async () => {
    await fault(envelope('1.1', `<NewImportProcess xmlns="${SERVICE_NAMESPACE}"><xmlDoc>a</xmlDoc><xmlDoc>b</xmlDoc></NewImportProcess>`), {}, /more than once/);
    await fault(envelope('1.1', `<NewImportProcess xmlns="${SERVICE_NAMESPACE}"><xmlDoc><subscribers/></xmlDoc></NewImportProcess>`), {}, /must not contain elements/);
  });
});

describe('envelope rules', () => {
  test('a header after the body is rejected', async () => {
    const body = `<soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS['1.1']}"><soap:Body><GetNlLists xmlns="${SERVICE_NAMESPACE}"/></soap:Body>` +
      `<soap:Header>${auth('a1', 'p')}</soap:Header></soap:Envelope>`;
    const err = await fault(body, {}, /Unexpected element Header/);
    assert.equal(err.faultCode, 'Client');
  });

  test('a mustUnderstand header other than Authentication is a fault', async () => {
    const security = (value: string): string =>
      `<wsse:Security xmlns:wsse="urn:example:security" soap:mustUnderstand="${value}"><wsse:Token>t</wsse:Token></wsse:Security>`;
    await fault(envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`, auth('a1', 'p') + security('1')), {}, /Security was not understood/);
    await fault(envelope('1.2', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`, security('true')), { version: '1.2' }, /Security was not understood/);
    // Not required to be understood: ignored.
    const ignored = await decode([Buffer.from(envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`, security('0') + auth('a1', 'p')))]);
    assert.equal(ignored.request.credentials?.User, 'a1');
    // Authentication is understood, whatever it says.
    const understood = await decode([Buffer.from(envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`,
      `<Authentication xmlns="${SERVICE_NAMESPACE}" soap:mustUnderstand="1"><User>a2</User></Authentication>`))]);
    assert.deepEqual(understood.request.credentials, { User: 'a2', Password: null, encType: null });
  });

  test('xsi:nil strings decode to null; empty strings stay empty; missing ones are absent', async () => {
    const { request } = await decode([Buffer.from(envelope('1.1',
      `<CreateGroup xmlns="${SERVICE_NAMESPACE}"><idList>3</idList><listGUID xsi:nil="true"/><newGroupName></newGroupName></CreateGroup>`))]);
    assert.deepEqual(request.args, { idList: 3, listGUID: null, newGroupName: '' });
    const other = await decode([Buffer.from(envelope('1.1',
      `<CreateGroup xmlns="${SERVICE_NAMESPACE}" xmlns:i="${XSI}"><listGUID i:nil="true"></listGUID><newGroupName xsi:nil="false">g</newGroupName></CreateGroup>`))]);
    assert.deepEqual(other.request.args, { listGUID: null, newGroupName: 'g' });
  });

  test('SOAP 1.2, namespace prefixes and unknown elements', async () => {
    const { request } = await decode([Buffer.from(envelope('1.2',
      `<m:GetProcessDetails xmlns:m="${SERVICE_NAMESPACE}"><m:idList> 4 </m:idList><m:unknown>x</m:unknown><idProcess>9</idProcess><m:idProcess>5</m:idProcess></m:GetProcessDetails>`))], { version: '1.2' });
    assert.equal(request.operation, 'GetProcessDetails');
    assert.deepEqual(request.args, { idList: 4, idProcess: 5 });
  });

  test('the wrong envelope version, a DOCTYPE and broken XML are faults', async () => {
    const err = await fault(envelope('1.2', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`), { version: '1.1' });
    assert.equal(err.faultCode, 'VersionMismatch');
    const dtd = await fault(`<!DOCTYPE x [<!ENTITY e "e">]>${envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`)}`.replace('<?xml version="1.0" encoding="utf-8"?>\n', ''), {}, /DTDs are not allowed/);
    assert.equal(dtd.httpStatus, 400);
    await fault(envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}">`), {}, /not well-formed/);
    await fault(envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/><GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`), {}, /exactly one operation/);
    await fault(envelope('1.1', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`), { action: 'CreateGroup' }, /does not match the SOAP action/);
    await fault(envelope('1.1', `<CreateGroup xmlns="${SERVICE_NAMESPACE}"><idList></idList></CreateGroup>`), {}, /not a valid int/);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: hostile input never escapes as anything but a ProtocolError, and always settles.

/** Decodes `bytes` cut at `cuts`; the outcome or the error, failing on any error that is not a ProtocolError. */
async function outcomeOf(bytes: Uint8Array, cuts: readonly number[], options: Partial<DecodeOptions> & { version?: SoapVersion }): Promise<'decoded' | 'refused'> {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks = [0, ...at].map((from, i) => Buffer.from(bytes.subarray(from, [...at, bytes.length][i])));
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('decodeSoapRequest did not settle')), 10_000);
  });
  try {
    const { request, sink } = await Promise.race([decode(chunks, options), hung]);
    assert.ok(request.operation !== undefined);
    if (request.streamedPresent) assert.ok(sink !== null);
    return 'decoded';
  } catch (err) {
    if (err instanceof ProtocolError) {
      assert.ok([400, 413, 415, 500].includes(err.httpStatus), `status ${err.httpStatus}`);
      assert.ok(err.message.length > 0);
      return 'refused';
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const decodeOptions = fc.record({
  version: fc.constantFrom<SoapVersion>('1.1', '1.2'),
  contentType: fc.constantFrom(undefined, 'text/xml; charset=utf-8', 'text/xml; charset=windows-1252', 'text/xml; charset=utf-16le',
    'application/soap+xml; charset=iso-8859-1', 'text/xml; charset=bogus', 'text/xml'),
  action: fc.constantFrom<OperationName | null>(null, null, 'NewImportProcess', 'GetNlLists'),
  bodyLimit: fc.constantFrom(1 << 20, 200),
});

const VALID: readonly { version: SoapVersion; xml: string }[] = [
  { version: '1.1', xml: envelope('1.1', `<NewImportProcess xmlns="${SERVICE_NAMESPACE}"><idList>1</idList><listGUID>9f1c2a3b-0000-4000-8000-000000000001</listGUID>` +
    `<xmlDoc>${escapeText('<subscribers><subscriber email="a@b.it" Prefix="" Number="" Name="Città"><campo1>A &amp; B</campo1></subscriber></subscribers>')}</xmlDoc>` +
    '<idGroups>1,2</idGroups><importType>3</importType><mobileInputType>2</mobileInputType><asPending>false</asPending><ConfirmEmail>1</ConfirmEmail>' +
    `<asOptOut>0</asOptOut><forceOptIn>true</forceOptIn><replaceGroups>false</replaceGroups><idConfirmNL>0</idConfirmNL></NewImportProcess>`, auth('a1234', 'secret')) },
  { version: '1.2', xml: envelope('1.2', `<GetNlLists xmlns="${SERVICE_NAMESPACE}"/>`, auth('a1', 'p')) },
  { version: '1.1', xml: envelope('1.1', `<CreateGroup xmlns="${SERVICE_NAMESPACE}"><idList>3</idList><listGUID xsi:nil="true"/><newGroupName>Gruppo &amp; co</newGroupName></CreateGroup>`) },
  { version: '1.1', xml: envelope('1.1', `<StartImportProcesses xmlns="${SERVICE_NAMESPACE}"><listsIDs>1;2</listsIDs><listsGUIDs>a;b</listsGUIDs><xmlDoc><![CDATA[<subscribers/>]]></xmlDoc></StartImportProcesses>`) },
];

const MUTATION_TOKENS = ['<', '>', '&', '"', ']]>', '</soap:Body>', '<soap:Header/>', '<!DOCTYPE x>', ' xsi:nil="true"', ' soap:mustUnderstand="1"',
  '<xmlDoc>', '</xmlDoc>', '&#0;', '&amp;', '\u0000', 'é', '\uFFFF', '<?xml version="1.0"?>', ' xmlns="urn:other"', ' xmlns:soap="urn:x"', '<x:y>'];

type Mutation = (bytes: Buffer) => Buffer;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]): Mutation => (b) => {
    const out = Buffer.from(b);
    if (out.length > 0) out[at % out.length] = byte;
    return out;
  }),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, bytes]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...MUTATION_TOKENS)).map(([at, token]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), Buffer.from(token), b.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.nat(40)).map(([at, length]): Mutation => (b) => {
    const i = at % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + length)]);
  }),
  fc.tuple(fc.nat(), fc.nat(), fc.nat(60)).map(([at, from, length]): Mutation => (b) => {
    const i = at % (b.length + 1);
    const j = from % (b.length + 1);
    return Buffer.concat([b.subarray(0, i), b.subarray(j, j + length), b.subarray(i)]);
  }),
  fc.nat().map((at): Mutation => (b) => b.subarray(0, at % (b.length + 1))),
);

describe('hostile input', () => {
  test('arbitrary bytes: a decoded request or a ProtocolError, always settled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 6 }), decodeOptions, async (bytes, cuts, options) => {
        await outcomeOf(bytes, cuts, options);
      }),
      { numRuns: 500 },
    );
  });

  test('arbitrary text around envelope markup: a decoded request or a ProtocolError', async () => {
    const piece = fc.oneof(fc.constantFrom(...MUTATION_TOKENS, '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">', '<soap:Body>',
      `<GetNlLists xmlns="${SERVICE_NAMESPACE}">`, '</GetNlLists>', '</soap:Envelope>'), fc.string({ maxLength: 5 }));
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 4 }), async (parts, cuts) => {
        await outcomeOf(Buffer.from(parts.join('')), cuts, { version: '1.1' });
      }),
      { numRuns: 500 },
    );
  });

  test('mutated valid envelopes: a decoded request or a ProtocolError, always settled', async () => {
    const seen = { decoded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...VALID), fc.array(mutation, { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(),
        async (valid, mutations, cuts, charset) => {
          const bytes = mutations.reduce<Buffer>((b, m) => m(b), Buffer.from(valid.xml));
          const contentType = charset ? CONTENT_TYPE[valid.version] : undefined;
          seen[await outcomeOf(bytes, cuts, { version: valid.version, contentType })]++;
        }),
      { numRuns: 1000 },
    );
    // Unmutated envelopes decode, and most mutations are refused: both paths were exercised.
    assert.ok(seen.decoded > 50 && seen.refused > 300, JSON.stringify(seen));
  });

  test('a body read whole decodes as the same bytes streamed', async () => {
    type Settled = { refused: false; request: DecodedRequest; feed: string | null } | { refused: true; fault: string };
    const settle = async (body: Buffer | Buffer[], options: Partial<DecodeOptions> & { version?: SoapVersion }): Promise<Settled> => {
      try {
        const { request, sink } = await decode(body, options);
        return { refused: false, request, feed: sink?.writes.join('') ?? null };
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        return { refused: true, fault: err.message };
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...VALID), fc.array(mutation, { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 8 }), decodeOptions,
        async (valid, mutations, cuts, options) => {
          const bytes = mutations.reduce<Buffer>((b, m) => m(b), Buffer.from(valid.xml));
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...at].map((from, i) => bytes.subarray(from, [...at, bytes.length][i]));
          const opts = { ...options, version: valid.version };
          const [whole, streamed] = [await settle(bytes, opts), await settle(chunks, opts)];
          // Both refuse or both decode alike; which fault a bad body gets first (its size, its
          // charset, its bytes, its markup) may depend on where a stream was cut.
          if (whole.refused && streamed.refused) return;
          assert.deepEqual(whole, streamed);
        }),
      { numRuns: 1000 },
    );
  });

  test('the valid envelopes decode, whatever the chunking', async () => {
    for (const { version, xml } of VALID) {
      const bytes = Buffer.from(xml);
      const whole = await decode([bytes], { version });
      for (const size of [1, 3, 100]) {
        const split = await decode(pieces(bytes, size), { version });
        assert.deepEqual(split.request, whole.request);
        assert.equal(split.sink?.writes.join(''), whole.sink?.writes.join(''));
      }
    }
  });
});
