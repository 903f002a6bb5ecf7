/**
 * The start banner's REST lines, read from a real server process as a newcomer reads them (on
 * the store TEST_STORE names; npm test runs it on both): the first start prints the REST API and
 * token URLs, the demo's REST client and its login, and those work as printed; a later start
 * prints the two URLs again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDemo, describeDoors } from '../../src/demo.ts';
import { OAUTH_TOKEN_PATH } from '../../src/rest/oauth-routes.ts';
import { REST_BASE_PATH } from '../../src/rest/rest-routes.ts';
import { startChildServer, stopChildServer } from '../helpers/child-server.ts';

/** The value of a banner line: two spaces, the label padded to 15 characters, the value. */
function line(output: string, label: string): string | null {
  const m = new RegExp(`^  ${`${label}:`.padEnd(15)}(\\S.*)$`, 'm').exec(output);
  return m ? m[1]! : null;
}

test('the banner names the paths the REST routes serve', () => {
  const demo = describeDemo({
    wsUser: 'a1', password: 'p', listId: 1, listGuid: 'g', consoleUser: 'admin', consolePassword: 'c', restClientId: 'id', restClientSecret: 'secret',
  }, 'http://h:1');
  assert.equal(line(demo, 'REST API'), `http://h:1${REST_BASE_PATH}`);
  assert.equal(line(demo, 'OAuth token'), `http://h:1${OAUTH_TOKEN_PATH}`);
  assert.equal(line(demo, 'REST client'), 'id id, secret secret');
  assert.equal(line(demo, 'REST login'), 'a1 / p');
  const doors = describeDoors('http://h:1');
  assert.equal(line(doors, 'REST API'), `http://h:1${REST_BASE_PATH}`);
  assert.equal(line(doors, 'OAuth token'), `http://h:1${OAUTH_TOKEN_PATH}`);
});

test('the first start prints the demo REST client and login, which work as printed; a later start prints the URLs again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailup-rest-banner-'));
  try {
    const first = await startChildServer(dataDir);
    let out: string;
    try {
      out = first.output();
      const api = line(out, 'REST API');
      const tokenUrl = line(out, 'OAuth token');
      assert.equal(api, `${first.url}/API/v1.1/Rest/ConsoleService.svc`);
      assert.equal(tokenUrl, `${first.url}/Authorization/OAuth/Token`);
      const client = /^id (\S+), secret (\S+)$/.exec(line(out, 'REST client') ?? '');
      const login = /^(\S+) \/ (\S+)$/.exec(line(out, 'REST login') ?? '');
      assert.ok(client && login, out);
      assert.equal(login[1], line(out, 'WS user'), 'the REST login is the WS user and password');
      assert.equal(login[2], line(out, 'WS password'));

      const token = await fetch(tokenUrl!, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: client[1]!, client_secret: client[2]!, username: login[1]!, password: login[2]! }).toString(),
      });
      assert.equal(token.status, 200);
      const { access_token } = await token.json() as { access_token: string };
      const lists = await fetch(`${api}/Console/User/Lists`, { headers: { authorization: `Bearer ${access_token}` } });
      assert.equal(lists.status, 200);
      const body = await lists.json() as { Items: { Name: string; idList: number; listGuid: string }[] };
      const [, idList, guid] = /idList (\d+), listGUID (\S+)/.exec(out)!;
      assert.deepEqual(body.Items.map((l) => [l.Name, l.idList, l.listGuid]), [['Newsletter', Number(idList), guid]]);
    } finally {
      await stopChildServer(first, 'SIGTERM');
    }

    const second = await startChildServer(dataDir);
    try {
      const again = second.output();
      assert.equal(line(again, 'REST API'), `${second.url}/API/v1.1/Rest/ConsoleService.svc`);
      assert.equal(line(again, 'OAuth token'), `${second.url}/Authorization/OAuth/Token`);
      assert.equal(line(again, 'REST client'), null, 'the secret is shown on the first start only');
      assert.doesNotMatch(again, /Demo account created/);
    } finally {
      await stopChildServer(second, 'SIGTERM');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
