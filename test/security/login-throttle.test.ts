/**
 * Password guessing over SOAP is slowed per WS user and per source address, without locking
 * anybody out: the right password still works, and other users from other addresses are not
 * delayed. Clients use distinct loopback addresses (127.0.0.x) as their source.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { soapEnvelope, startTestService, type TestService } from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService({ HOST: '0.0.0.0', LOGIN_FREE_ATTEMPTS: '2' });
});
after(() => svc.close());

/** GetIdWsUser from a given source address; resolves to [ReturnCode, milliseconds]. */
function call(from: string, User: string, Password: string): Promise<[number, number]> {
  const body = soapEnvelope('GetIdWsUser', {}, { User, Password });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${svc.url}/Services/WSMailUpImport.asmx`, {
      method: 'POST', localAddress: from, agent: false,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/GetIdWsUser' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () =>
        resolve([Number(/ReturnCode&gt;(-?\d+)/.exec(text)![1]), performance.now() - started]));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('failed logins are delayed more and more, per user and per address, and nobody is locked out', async () => {
  const victim = await svc.addAccount();
  const other = await svc.addAccount();
  // Two free failures, then each attempt waits: 500 ms, 1 s, 2 s … (the user's and the address's count, whichever is more)
  for (let i = 0; i < 3; i++) assert.equal((await call('127.0.0.2', victim.user, 'wrong'))[0], -1002);
  const [code, slow] = await call('127.0.0.2', victim.user, 'wrong');
  assert.equal(code, -1002);
  assert.ok(slow >= 500, `the fourth failure waited ${Math.round(slow)} ms`);
  // The right password still works (after its delay): no lockout.
  const [ok, waited] = await call('127.0.0.3', victim.user, victim.password);
  assert.equal(ok, 0);
  assert.ok(waited >= 1000, `the victim's own login from elsewhere is delayed too (${Math.round(waited)} ms)`);
  // Another user from the guessing address is delayed; from another address it is not.
  const [otherFromBad, delayed] = await call('127.0.0.2', other.user, other.password);
  assert.equal(otherFromBad, 0);
  assert.ok(delayed >= 1000, `the guessing address is slowed for every user (${Math.round(delayed)} ms)`);
  const third = await svc.addAccount();
  const [fine, quick] = await call('127.0.0.4', third.user, third.password);
  assert.equal(fine, 0);
  assert.ok(quick < delayed, 'an unrelated user from another address waits for no throttle');
});
