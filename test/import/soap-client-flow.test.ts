/**
 * The whole flow of a typical integration, driven by a real third-party client (npm `soap`) that
 * loads our served WSDL: GetNlLists → CreateGroup → NewImportProcess ×2 → StartImportProcesses
 * without xmlDoc → GetProcessDetails until both processes are done. Over SOAP 1.1 and 1.2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as soap from 'soap';
import { feedXml, startTestService, type TestService } from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

/** The inner mailupMessage of a result, which the soap client already un-escaped once. */
const returnCode = (result: string): number => Number(/<ReturnCode>(-?\d+)<\/ReturnCode>/.exec(result)![1]);

for (const version of ['1.1', '1.2'] as const) {
  test(`a complete import flow with the soap client over SOAP ${version}`, async () => {
    const a = await svc.addAccount();
    const client = await soap.createClientAsync(`${svc.url}/Services/WSMailUpImport.asmx?WSDL`, {
      forceSoap12Headers: version === '1.2',
    });
    if (version === '1.2') client.setEndpoint(`${svc.url}/Services/WSMailupImport.asmx`);
    client.addSoapHeader({ Authentication: { User: a.user, Password: a.password, encType: 'UTF-8' } }, '', 'tns', 'http://ws.mailupnet.it/');
    const call = async (op: string, args: object): Promise<string> => {
      const [out] = await (client as unknown as Record<string, (a: object) => Promise<[Record<string, string>]>>)[`${op}Async`]!(args);
      return out[`${op}Result`]!;
    };

    const lists = await call('GetNlLists', {});
    assert.equal(returnCode(lists), 0);
    const m = new RegExp(`<List idList="${a.list.id}" listGUID="([^"]+)"`).exec(lists)!;
    const listGUID = m[1]!;

    const idGroup = returnCode(await call('CreateGroup', { idList: a.list.id, listGUID, newGroupName: `From soap ${version}` }));
    assert.ok(idGroup > 0);

    const common = { idList: a.list.id, listGUID, idGroups: String(idGroup), importType: 3, mobileInputType: 1,
      asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0 };
    const first = returnCode(await call('NewImportProcess', { ...common, xmlDoc: feedXml([{ email: 'one@example.com', fields: ['Città & Co'] }, { email: 'two@example.com' }]) }));
    const second = returnCode(await call('NewImportProcess', { ...common, xmlDoc: feedXml([{ email: 'two@example.com' }, { email: 'three@example.com' }]) }));
    assert.ok(first > 0 && second > first);

    const started = await call('StartImportProcesses', { listsIDs: String(a.list.id), listsGUIDs: listGUID, groupsIDs: String(idGroup),
      importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false });
    assert.equal(returnCode(started), 0);
    assert.deepEqual([...started.matchAll(/<processID>(\d+)<\/processID>/g)].map((x) => Number(x[1])), [first, second]);

    const details = async (idProcess: number): Promise<string> => {
      for (;;) {
        const d = await call('GetProcessDetails', { idList: a.list.id, listGUID, idProcess });
        if (/<StatusCode>3<\/StatusCode>/.test(d)) return d;
        assert.doesNotMatch(d, /<StatusCode>4<\/StatusCode>/);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    assert.match(await details(first), /<TotalContacts>2<\/TotalContacts><NewMobile>0<\/NewMobile><NewEmail>2<\/NewEmail>/);
    assert.match(await details(second), /<NewEmail>1<\/NewEmail>.*<ExistingEmail>1<\/ExistingEmail>/);
    // The exchange really was in the chosen SOAP version, both ways.
    const envelopeNs = version === '1.1' ? 'http://schemas.xmlsoap.org/soap/envelope/' : 'http://www.w3.org/2003/05/soap-envelope';
    assert.ok(client.lastRequest!.includes(envelopeNs), 'request envelope version');
    assert.ok(client.lastResponse!.toString().includes(envelopeNs), 'response envelope version');
  });
}
