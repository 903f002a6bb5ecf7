/**
 * The set-up of the tests that run the command and the packed package: a real service with one
 * account, and a temporary folder for the files a test writes (CSV inputs, config files, the
 * tarball). Both are made before the file's first test and removed after its last.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';

export interface ServiceAndFolder {
  readonly svc: TestService;
  /** An account of the service, with one list and two groups. */
  readonly acc: TestAccount;
  readonly dir: string;
}

/** Registers the file's before and after hooks; the fields can be read once the first test runs. */
export function serviceAndFolder(folderPrefix: string): ServiceAndFolder {
  let current: ServiceAndFolder | null = null;
  before(async () => {
    const svc = await startTestService();
    current = { svc, acc: await svc.addAccount(), dir: mkdtempSync(join(tmpdir(), folderPrefix)) };
  });
  after(async () => {
    if (!current) return;
    await current.svc.close();
    rmSync(current.dir, { recursive: true, force: true });
  });
  const ready = (): ServiceAndFolder => {
    if (!current) throw new Error('the service is started by the before hook: read it inside a test');
    return current;
  };
  return {
    get svc() { return ready().svc; },
    get acc() { return ready().acc; },
    get dir() { return ready().dir; },
  };
}
