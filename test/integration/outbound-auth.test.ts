import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// `auth` on the whole pipeline, with the account's secrets in the local secrets file and an OAuth2
// token endpoint of our own on 127.0.0.1 (loopback destinations are allowed in the tests).
const ACCOUNT = 'acc_auth';
const SECRETS = { CLIENT_SECRET: 'cs-9f8e7d6c5b4a', CRM_TOKEN: 'crm-token-0a1b2c3d' };
let h: Harness;
let receiver: Receiver;
let tokenServer: Server;
let tokenUrl: string;
let dir: string;
/** What the token endpoint received, and the tokens it issued (tok-1, tok-2…). */
const tokenRequests: Array<{ authorization: string | undefined; body: string }> = [];
/** The token the receiver accepts; anything else gets a 401. */
let accepted = 'tok-1';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookshape-auth-'));
  const secretsFile = join(dir, 'secrets.json');
  writeFileSync(secretsFile, JSON.stringify({ [ACCOUNT]: SECRETS }));
  tokenServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      tokenRequests.push({ authorization: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json');
      // Slow enough that a burst of deliveries asks while the first request is still out.
      setTimeout(() => res.end(JSON.stringify({ access_token: `tok-${tokenRequests.length}`, token_type: 'Bearer', expires_in: 3600 })), 200);
    });
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  tokenUrl = `http://127.0.0.1:${(tokenServer.address() as { port: number }).port}/oauth/token`;
  [h, receiver] = await Promise.all([startHarness({ env: { SECRETS_SOURCE: 'local-file', LOCAL_SECRETS_FILE: secretsFile } }), startReceiver()]);
  receiver.respond((request, res) => {
    const bearer = request.url.startsWith('/oauth/') ? `Bearer ${accepted}` : `Bearer ${SECRETS.CRM_TOKEN}`;
    res.statusCode = request.headers.authorization === bearer ? 200 : 401;
    // An echoing receiver: what the delivery log keeps of this must still hold no credential.
    res.end(JSON.stringify({ got: request.headers.authorization }));
  });
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all([h.close(), receiver.close(), new Promise((resolve) => tokenServer.close(resolve))]);
});

const credentialsIn = (text: string) => [...Object.values(SECRETS), 'tok-1', 'tok-2'].filter((value) => text.includes(value));

describe('outbound authentication', () => {
  it('bearer: the secret named by tokenSecretName is sent; the record shows Authorization: [redacted]', async () => {
    await h.setWebhook(ACCOUNT, 'bearer', { name: 'bearer', events: ['call.created'], url: `${receiver.url}/bearer/{{ event.id }}`, auth: { type: 'bearer', tokenSecretName: 'CRM_TOKEN' } });
    const event = eventOf('call.created', ACCOUNT);
    await h.publish(event);
    const record = await h.waitForDelivery(ACCOUNT, 'bearer', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.equal(record.attempts[0]!.request?.headers.Authorization, '[redacted]');
    assert.deepEqual(credentialsIn(JSON.stringify(record)), []);
  });

  it('oauth2: the token endpoint sees one token request for 50 deliveries, and a rotated token after a 401', async () => {
    await h.setWebhook(ACCOUNT, 'oauth', {
      name: 'oauth',
      events: ['call.created'],
      url: `${receiver.url}/oauth/{{ event.id }}`,
      auth: { type: 'oauth2', tokenUrl, clientId: 'hookshape-test', clientSecretName: 'CLIENT_SECRET', scope: 'calls:write' },
    });
    const burst = Array.from({ length: 50 }, () => eventOf('call.created', ACCOUNT));
    await Promise.all(burst.map((event) => h.publish(event)));
    for (const event of burst) assert.equal((await h.waitForDelivery(ACCOUNT, 'oauth', event.id)).status, 'succeeded');
    assert.equal(tokenRequests.length, 1, 'one token request for the 50 deliveries');
    assert.equal(tokenRequests[0]!.authorization, `Basic ${Buffer.from(`hookshape-test:${SECRETS.CLIENT_SECRET}`).toString('base64')}`);
    assert.equal(tokenRequests[0]!.body, 'grant_type=client_credentials&scope=calls%3Awrite');
    const sent = receiver.requests.filter((request) => request.url.startsWith('/oauth/'));
    assert.equal(sent.length, 50);
    assert.ok(sent.every((request) => request.headers.authorization === 'Bearer tok-1'));

    // The receiver rotates: tok-1 is refused from now on.
    accepted = 'tok-2';
    const event = eventOf('call.created', ACCOUNT);
    await h.publish(event);
    const record = await h.waitForDelivery(ACCOUNT, 'oauth', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.equal(tokenRequests.length, 2, 'the 401 made exactly one new token request');
    const tries = receiver.requests.filter((request) => request.url === `/oauth/${event.id}`).map((request) => request.headers.authorization);
    assert.deepEqual(tries, ['Bearer tok-1', 'Bearer tok-2']);
    assert.equal(record.attempts.length, 1);
    assert.match(record.attempts[0]!.summary, /sent again with a new OAuth2 token after a 401/);
    assert.equal(record.attempts[0]!.request?.headers.Authorization, '[redacted]');
    assert.deepEqual(credentialsIn(JSON.stringify(record)), [], 'no token or client secret in the delivery record');
    assert.deepEqual(credentialsIn(JSON.stringify(h.logs)), [], 'nor in the logs');
  });
});
