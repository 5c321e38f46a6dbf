import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import type { BuiltFunction } from '../../functions/dev/built-function.ts';
import { createRetryQueue } from '../../functions/dev/emulator-wiring.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { startLocalApi } from '../../functions/dev/local-api.ts';
import { BUILD_DIR } from '../../scripts/build.ts';
import { call } from '../support/api-client.ts';
import { createMemoryLogger, Firestore, FirestoreApiKeyStore, loadConfig } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { functionsEnv } from '../support/functions-env.ts';

// POST /v1/accounts/{accountId}/webhooks/scaffold through the built api function (Firestore emulator,
// real HTTP): a receiver's curl example becomes a draft that createWebhook takes as it is and that
// delivers, with the account's secret in place of the example's token.

const A = 'acc_scaffold_a';

describe('scaffold through the api function (build/functions)', () => {
  const projectId = `scaffold-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-scaffold-'));
  const secretsFile = join(work, 'secrets.json');
  let db: Firestore;
  let receiver: Receiver;
  let tasks: CloudTasksEmulator;
  let api: BuiltFunction;
  let key = '';
  let token = '';

  before(async () => {
    assert.ok(existsSync(join(BUILD_DIR, 'index.js')), 'build/functions/index.js is missing: run npm run build');
    db = new Firestore({ projectId });
    [receiver, tasks] = await Promise.all([startReceiver(), startCloudTasksEmulator()]);
    receiver.respond((_request, res) => res.end('{"id":"00Q5g00000AbCdE","success":true}'));
    writeFileSync(secretsFile, JSON.stringify({ [A]: { RECEIVER_TOKEN: 'sf-token-123' } }));
    const env = functionsEnv({ projectId, tasksAddress: tasks.address, workerPort: await freePort() }, { WEBHOOK_CACHE_SECONDS: '0', LOCAL_SECRETS_FILE: secretsFile });
    const config = loadConfig(env);
    await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
    api = await startLocalApi({ env, signingKeysFile: join(work, 'jwt-keys.json'), port: await freePort() });
    key = (await new FirestoreApiKeyStore(db, createMemoryLogger()).create({ name: 'platform', accountId: A, createdBy: 'test' })).key;
    token = (await call(api.url, 'POST', `/v1/accounts/${A}/portal-sessions`, { token: key, body: { scopes: ['webhooks:read'] } })).json.token;
  });

  after(async () => {
    await api?.stop();
    await Promise.allSettled([receiver.close(), tasks.stop(), db.terminate()]);
    rmSync(work, { recursive: true, force: true });
  });

  const salesforce = () =>
    readFileSync(new URL('../fixtures/scaffold/salesforce-lead.sh', import.meta.url), 'utf8').replace('https://MyDomainName.my.salesforce.com', receiver.url);

  it('is in the OpenAPI document with its request and answer schemas', async () => {
    const document = (await call(api.url, 'GET', '/v1/openapi.json')).json;
    const operation = document.paths['/v1/accounts/{accountId}/webhooks/scaffold'].post;
    assert.equal(operation.operationId, 'scaffoldWebhook');
    assert.equal(operation['x-hookshape-scope'], 'webhooks:read');
    assert.ok(document.components.schemas.ScaffoldRequest && document.components.schemas.Scaffold);
  });

  it('a customer token with webhooks:read scaffolds; the draft is created as it is and delivers the sample with the account\'s secret', async () => {
    const scaffolded = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/scaffold`, { token, body: { eventType: 'call.created', example: salesforce() } });
    assert.equal(scaffolded.status, 200, scaffolded.text);
    const answer = scaffolded.json;
    assert.equal(answer.exampleFormat, 'curl');
    assert.equal(answer.validation.ok, true, JSON.stringify(answer.validation));
    assert.deepEqual(Object.fromEntries(answer.mapped.map((field: { path: string; variable: string }) => [field.path, field.variable])), { 'body.FirstName': 'data.customer.name', 'body.LastName': 'data.customer.name', 'body.Email': 'data.customer.email', 'body.Phone': 'data.customer.phone' });
    assert.deepEqual(answer.unmatched.map((field: { path: string }) => field.path).sort(), ['body.Company', 'body.LeadSource', 'body.Status']);
    assert.deepEqual(answer.secrets, ['RECEIVER_TOKEN']);
    assert.ok(!scaffolded.text.includes('00DE0X0A0M0PeLE'), 'the example\'s token is not echoed');

    const created = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks`, { token: key, body: answer.draft });
    assert.equal(created.status, 201, created.text);
    const sent = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/${created.json.id}/test`, { token: key, body: {} });
    assert.equal(sent.status, 201, sent.text);
    assert.equal(sent.json.status, 'succeeded', sent.text);
    const [request] = await receiver.waitFor(1);
    assert.equal(request!.url, '/services/data/v62.0/sobjects/Lead/');
    assert.equal(request!.headers.authorization, 'Bearer sf-token-123');
    assert.deepEqual(JSON.parse(request!.body), { FirstName: 'Maria', LastName: 'Conceição', Company: 'Acme', Email: 'maria.conceicao@example.com', Phone: '+5511987654321', LeadSource: 'Web', Status: 'Open - Not Contacted' });
  });

  it('an example it cannot read is a 422 naming the example, with line and column', async () => {
    const refused = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/scaffold`, { token, body: { eventType: 'call.created', example: '{\n  "a": ,\n}' } });
    assert.equal(refused.status, 422);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.equal(refused.json.code, 'validation_failed');
    assert.equal(refused.json.errors[0].field, 'example');
    assert.equal(refused.json.errors[0].line, 2);
    const badType = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/scaffold`, { token, body: { eventType: 'call.exploded', example: '{}' } });
    assert.equal(badType.status, 422);
    assert.equal(badType.json.errors[0].field, 'eventType');
  });

  it('needs a credential of the account', async () => {
    assert.equal((await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/scaffold`, { body: { eventType: 'call.created', example: '{}' } })).status, 401);
    assert.equal((await call(api.url, 'POST', `/v1/accounts/acc_other/webhooks/scaffold`, { token, body: { eventType: 'call.created', example: '{}' } })).status, 404);
  });
});
