/** The SOAP imports the JSON API tests start from: prepared (NewImportProcess) or run to the end. */
import { callSoap, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

const FLAGS = { importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0 };

/** NewImportProcess: a process prepared and not started. */
export async function prepareImport(svc: TestService, acc: TestAccount, xmlDoc: string): Promise<number> {
  const reply = await callSoap(svc.endpoint, 'NewImportProcess', { idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, idGroups: '', ...FLAGS }, { User: acc.user, Password: acc.password });
  if (reply.returnCode === null || reply.returnCode <= 0) throw new Error(`NewImportProcess: ${reply.body}`);
  return reply.returnCode;
}

/** NewImportProcess then StartProcess, waiting for the end. */
export async function runImport(svc: TestService, acc: TestAccount, xmlDoc: string): Promise<number> {
  const id = await prepareImport(svc, acc, xmlDoc);
  const auth = { User: acc.user, Password: acc.password };
  const started = await callSoap(svc.endpoint, 'StartProcess', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth);
  if (started.returnCode !== 0) throw new Error(`StartProcess ${id}: ${started.body}`);
  await waitForProcess(svc.endpoint, auth, acc.list.id, acc.list.guid, id);
  return id;
}
