import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PubSub } from '@google-cloud/pubsub';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { serveBuiltFunction, type BuiltFunction } from '../../functions/dev/built-function.ts';
import { createEventsTopic, createRetryQueue } from '../../functions/dev/emulator-wiring.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { startLocalApi } from '../../functions/dev/local-api.ts';
import { BUILD_DIR, BUILD_METAFILE } from '../../scripts/build.ts';
import { call, withoutRequestId, type ApiAnswer } from '../support/api-client.ts';
import { eventOf } from '../support/harness.ts';
import { auditPath, createMemoryLogger, EVENT_TYPES, Firestore, FirestoreApiKeyStore, fromFirestore, INDEXED_QUERIES, loadConfig, newSigningKey, OPERATIONAL_EVENT_TYPES, QUERY_LOG_MESSAGE, routes as routeTable, servedBy, webhookConfigHash, webhookPath, webhooksPath, type QueryShape } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { until } from '../support/until.ts';
import { functionsEnv } from '../support/functions-env.ts';

// The management API as deployed: the bundle's `api` function under the functions framework, on the
// Firestore emulator, next to the bundle's dispatcher and retry worker (Pub/Sub emulator, Cloud Tasks
// emulator). Everything goes through real HTTP. npm test builds first.

const A = 'acc_api_a';
const B = 'acc_api_b';
const HOSTILE = 'acc_api_hostile';
const ALLOWED_ORIGIN = 'https://portal.example.com';
const SIGNING_SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('the management API (build/functions, target api)', () => {
  const projectId = `api-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-api-'));
  const keysFile = join(work, 'jwt-keys.json');
  const secretsFile = join(work, 'secrets.json');
  const processes: BuiltFunction[] = [];
  let db: Firestore;
  let receiver: Receiver;
  let tasks: CloudTasksEmulator;
  let pubsub: PubSub;
  let api: BuiltFunction;
  let base: string;
  let topic: string;
  let signingJwk: JWK;
  let oldJwk: JWK;
  const keys: Record<'all' | 'a' | 'b' | 'revoked', string> = { all: '', a: '', b: '', revoked: '' };
  /** A token for A with every customer scope, and one for B, minted through the API. */
  let tokenA = '';
  let tokenB = '';
  const ids = { webhook: '', eventId: '', jobId: '' };
  /** Receiver paths answered 400 (a failure for good); every other request gets 200. */
  const failing = new Set<string>();
  /** Requests to these paths are answered once the promise settles. */
  const holding = new Map<string, Promise<void>>();

  const v1 = (path: string) => `/v1/accounts/${A}${path}`;

  before(async () => {
    assert.ok(existsSync(join(BUILD_DIR, 'index.js')), 'build/functions/index.js is missing: run npm run build');
    db = new Firestore({ projectId });
    [receiver, tasks] = await Promise.all([startReceiver(), startCloudTasksEmulator()]);
    receiver.respond((request, res) => {
      const answer = () => {
        res.statusCode = failing.has(request.url) ? 400 : 200;
        res.end(`status ${res.statusCode}`);
      };
      const hold = holding.get(request.url);
      if (hold) void hold.then(answer);
      else answer();
    });
    // Two valid signing keys: the current one signs, the older one still verifies (a rotation).
    [signingJwk, oldJwk] = await Promise.all([newSigningKey('k-current'), newSigningKey('k-old')]);
    writeFileSync(keysFile, JSON.stringify({ keys: [signingJwk, oldJwk] }));
    writeFileSync(secretsFile, '{}');
    const workerPort = await freePort();
    const env = functionsEnv({ projectId, tasksAddress: tasks.address, workerPort }, { WEBHOOK_CACHE_SECONDS: '0', LOCAL_SECRETS_FILE: secretsFile });
    const config = loadConfig(env);
    topic = config.eventsTopic;
    const [worker, dispatch] = await Promise.all([serveBuiltFunction('retryWorker', 'http', env, { port: workerPort }), serveBuiltFunction('dispatchEvent', 'cloudevent', env)]);
    processes.push(worker, dispatch);
    // HOOKSHAPE_DEV_API_KEY is set for the API process but not registered: it must be worth nothing.
    api = await startLocalApi({ env: { ...env, API_CORS_ORIGINS: ALLOWED_ORIGIN, HOOKSHAPE_DEV_API_KEY: 'dev-key-not-registered' }, signingKeysFile: keysFile, port: await freePort() });
    processes.push(api);
    base = api.url;
    await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
    pubsub = await createEventsTopic({ projectId, topic, dispatchUrl: dispatch.url });
    // Platform keys are made as `hookshape keys create` makes them: with the key store, in Firestore.
    const store = new FirestoreApiKeyStore(db, createMemoryLogger());
    keys.all = (await store.create({ name: 'platform', accountId: null, createdBy: 'test' })).key;
    keys.a = (await store.create({ name: 'a only', accountId: A, createdBy: 'test' })).key;
    keys.b = (await store.create({ name: 'b only', accountId: B, createdBy: 'test' })).key;
    const revoked = await store.create({ name: 'revoked', accountId: null, createdBy: 'test' });
    keys.revoked = revoked.key;
    assert.equal(await store.revoke(revoked.record.id, new Date()), true);
    tokenA = (await call(base, 'POST', `/v1/accounts/${A}/portal-sessions`, { token: keys.a })).json.token;
    tokenB = (await call(base, 'POST', `/v1/accounts/${B}/portal-sessions`, { token: keys.all, body: { subject: 'user-b' } })).json.token;
    assert.ok(tokenA && tokenB, 'tokens minted');
  });

  after(async () => {
    await Promise.allSettled(processes.map((process) => process.stop()));
    await Promise.allSettled([receiver.close(), tasks.stop(), pubsub?.close(), db.terminate()]);
    rmSync(work, { recursive: true, force: true });
  });

  const webhookBody = (path: string, extra: Record<string, unknown> = {}) => ({ name: `hook ${path}`, events: ['call.created'], url: `${receiver.url}/${path}/{{ data.call.id }}`, ...extra });

  it('serves its OpenAPI 3.1 document, generated from the route table, without a credential', async () => {
    const answer = await call(base, 'GET', '/v1/openapi.json');
    assert.equal(answer.status, 200);
    assert.equal(answer.json.openapi, '3.1.0');
    const paths = Object.keys(answer.json.paths);
    for (const path of ['/v1/accounts/{accountId}/webhooks', '/v1/accounts/{accountId}/webhooks/{webhookId}', '/v1/accounts/{accountId}/webhooks/{webhookId}/preview', '/v1/accounts/{accountId}/webhooks/preview', '/v1/accounts/{accountId}/deliveries', '/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries/{eventId}/replay', '/v1/accounts/{accountId}/portal-sessions']) {
      assert.ok(paths.includes(path), `${path} is in the document`);
    }
    const input = answer.json.components.schemas.WebhookInput;
    assert.equal(input.additionalProperties, false, 'unknown fields are refused, and the document says so');
    assert.deepEqual(input.required.sort(), ['events', 'name', 'url']);
  });

  it('the portal: a path with a malformed escape is a client error (4xx, no error logged), not a 500', async () => {
    const errorsBefore = api.output().split('\n').filter((line) => line.includes('"severity":"ERROR"')).length;
    for (const path of ['/portal/%', '/portal/%E0%A4%A', '/portal/assets/%zz.js']) {
      const answer = await fetch(`${base}${path}`);
      await answer.arrayBuffer();
      assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status}`);
    }
    assert.equal(api.output().split('\n').filter((line) => line.includes('"severity":"ERROR"')).length, errorsBefore, 'no internal error logged');
    assert.equal((await fetch(`${base}/portal/`)).status, 200, 'the portal itself is served');
  });

  it('CRUD round trip: create (validated), get with ETag, list in pages, replace and patch with If-Match, disable, enable, delete; each change audited', async () => {
    const created = await call(base, 'POST', v1('/webhooks'), { token: keys.all, body: webhookBody('crud', { id: 'wh_crud', headers: { 'X-Heders': 'x' } }) });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.id, 'wh_crud');
    assert.equal(created.json.validation.ok, true);
    assert.equal(created.json.method, 'POST', 'defaults are written, as the console shows them');
    const etag = created.headers.get('etag')!;
    assert.match(etag, /^"\d+\.\d{9}"$/);
    const stored = (await db.doc(webhookPath(A, 'wh_crud')).get());
    assert.equal(`"${stored.updateTime!.seconds}.${String(stored.updateTime!.nanoseconds).padStart(9, '0')}"`, etag, 'the ETag is the Firestore update time');
    assert.equal(stored.get('validation.configHash'), created.json.validation.configHash);

    const fetched = await call(base, 'GET', v1('/webhooks/wh_crud'), { token: tokenA });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('etag'), etag);
    assert.deepEqual(fetched.json, created.json);

    for (const id of ['wh_crud2', 'wh_crud3']) assert.equal((await call(base, 'POST', v1('/webhooks'), { token: keys.a, body: webhookBody(id, { id }) })).status, 201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiAnswer = await call(base, 'GET', v1(`/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ''}`), { token: tokenA });
      assert.equal(page.status, 200, page.text);
      assert.ok(page.json.data.length <= 2);
      seen.push(...page.json.data.map((webhook: { id: string }) => webhook.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ['wh_crud', 'wh_crud2', 'wh_crud3']);
    // A cursor is the client's to send back: one crafted to be no id is a 400, never a 500.
    for (const after of ['a/b', '..', '', 7]) {
      const crafted = Buffer.from(JSON.stringify({ after })).toString('base64url');
      const answer = await call(base, 'GET', v1(`/webhooks?cursor=${crafted}`), { token: tokenA });
      assert.equal(answer.status, 400, `after ${JSON.stringify(after)}: ${answer.text}`);
    }

    const noIfMatch = await call(base, 'PUT', v1('/webhooks/wh_crud'), { token: keys.all, body: webhookBody('crud', { name: 'replaced' }) });
    assert.equal(noIfMatch.status, 428);
    const replaced = await call(base, 'PUT', v1('/webhooks/wh_crud'), { token: keys.all, body: webhookBody('crud', { name: 'replaced', method: 'put' }), headers: { 'if-match': etag } });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.json.method, 'PUT');
    assert.equal(replaced.json.headers['X-Heders'], undefined, 'a replace replaces');
    const stale = await call(base, 'PATCH', v1('/webhooks/wh_crud'), { token: keys.all, body: { name: 'stale' }, contentType: 'application/merge-patch+json', headers: { 'if-match': etag } });
    assert.equal(stale.status, 412, 'the old ETag no longer matches');
    const patched = await call(base, 'PATCH', v1('/webhooks/wh_crud'), { token: tokenA, body: { name: 'patched', method: null, timeoutSeconds: 5 }, contentType: 'application/merge-patch+json', headers: { 'if-match': replaced.headers.get('etag')! } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.json.name, patched.json.method, patched.json.timeoutSeconds], ['patched', 'POST', 5], 'null puts method back to its default');

    const disabled = await call(base, 'POST', v1('/webhooks/wh_crud/disable'), { token: tokenA });
    assert.equal(disabled.status, 200);
    assert.equal((await db.doc(webhookPath(A, 'wh_crud')).get()).get('enabled'), false);
    assert.equal(disabled.json.validation.configHash, patched.json.validation.configHash, 'enabled is not configuration: the validation stands');
    // Failures that ended after a disable still counted: enabling starts the count from zero.
    await db.doc(webhookPath(A, 'wh_crud')).update({ 'health.consecutiveFailures': 7 });
    const enabled = await call(base, 'POST', v1('/webhooks/wh_crud/enable'), { token: tokenA });
    assert.equal(enabled.json.enabled, true);
    assert.equal(enabled.json.health?.consecutiveFailures, 0);
    assert.equal((await db.doc(webhookPath(A, 'wh_crud')).get()).get('health.consecutiveFailures'), 0);

    const deleted = await call(base, 'DELETE', v1('/webhooks/wh_crud3'), { token: keys.all, headers: { 'if-match': '"1.000000000"' } });
    assert.equal(deleted.status, 412, 'a delete with a stale If-Match is refused');
    assert.equal((await call(base, 'DELETE', v1('/webhooks/wh_crud3'), { token: keys.all })).status, 204);
    assert.equal((await call(base, 'GET', v1('/webhooks/wh_crud3'), { token: keys.all })).status, 404);

    const audit = (await db.collection(auditPath(A)).get()).docs.map((doc) => doc.data());
    const actions = audit.filter((entry) => String(entry.resource).startsWith('webhooks/wh_crud')).map((entry) => entry.action).sort();
    assert.deepEqual(actions, ['webhook.create', 'webhook.create', 'webhook.create', 'webhook.delete', 'webhook.disable', 'webhook.enable', 'webhook.patch', 'webhook.replace'].sort());
    const replace = audit.find((entry) => entry.action === 'webhook.replace')!;
    assert.match(replace.actor, /^apiKey:[0-9a-f]{20}$/);
    assert.match(replace.beforeHash, /^[0-9a-f]{64}$/);
    assert.notEqual(replace.beforeHash, replace.afterHash);
    assert.equal(audit.find((entry) => entry.action === 'webhook.patch')!.actor, 'token:portal');
    assert.equal(audit.find((entry) => entry.action === 'webhook.delete')!.afterHash, null);
  });

  it('a document written in the console is listed and editable, and a console edit between read and write is never overwritten', async () => {
    await db.doc(webhookPath(A, 'console hook')).set({ name: 'from the console', events: ['user.created'], url: 'https://example.com/x', heders: { typo: 'kept' } });
    const list = await call(base, 'GET', v1('/webhooks?limit=100'), { token: tokenA });
    const listed = list.json.data.find((webhook: { id: string }) => webhook.id === 'console hook');
    assert.ok(listed, 'listed');
    assert.equal(listed.name, 'from the console');
    const read = await call(base, 'GET', v1(`/webhooks/${encodeURIComponent('console hook')}`), { token: tokenA });
    const patched = await call(base, 'PATCH', v1(`/webhooks/${encodeURIComponent('console hook')}`), { token: tokenA, body: { timeoutSeconds: 3 }, headers: { 'if-match': read.headers.get('etag')! } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.timeoutSeconds, 3);
    assert.deepEqual(patched.json.heders, { typo: 'kept' }, 'fields the console added stay');
    assert.ok(patched.json.validation.warnings.some((warning: { field: string }) => warning.field === 'heders'), 'and the validation warns about them, as the trigger does');
    // The console edits after the API read: the API's write with the old ETag is refused.
    await db.doc(webhookPath(A, 'console hook')).update({ name: 'edited in the console' });
    const refused = await call(base, 'PATCH', v1(`/webhooks/${encodeURIComponent('console hook')}`), { token: tokenA, body: { name: 'from the api' }, headers: { 'if-match': patched.headers.get('etag')! } });
    assert.equal(refused.status, 412);
    assert.equal((await db.doc(webhookPath(A, 'console hook')).get()).get('name'), 'edited in the console');
  });

  it('a webhook created through the API is delivered by the dispatcher; its deliveries are listed, filtered, fetched and replayed', async () => {
    const created = await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: webhookBody('delivered', { id: 'wh_delivered', events: ['call.created', 'queue.created'] }) });
    assert.equal(created.status, 201, created.text);
    ids.webhook = 'wh_delivered';
    failing.add('/delivered/c1'); // the first delivery fails for good (a 4xx), to be replayed
    const first = eventOf('call.created', A, { call: { id: 'c1' } });
    await pubsub.topic(topic).publishMessage({ json: first, attributes: { type: first.type, accountId: A } });
    const failed = await until('the delivery to fail', async () => {
      const answer = await call(base, 'GET', v1(`/webhooks/wh_delivered/deliveries/${first.id}`), { token: tokenA });
      return answer.status === 200 && answer.json.status === 'failed' ? answer : undefined;
    }, 30_000, () => api.output().slice(-2000));
    assert.equal(failed.json.webhookId, 'wh_delivered');
    assert.equal(failed.json.eventId, first.id);
    assert.equal(failed.json.errorCode, 'http_error');
    assert.ok(receiver.requests.some((request) => request.url === '/delivered/c1'));
    ids.eventId = first.id;

    failing.clear();
    const second = eventOf('queue.created', A, {});
    await pubsub.topic(topic).publishMessage({ json: second, attributes: { type: second.type, accountId: A } });
    await until('the second delivery', async () => ((await call(base, 'GET', v1(`/webhooks/wh_delivered/deliveries/${second.id}`), { token: tokenA })).json?.status === 'succeeded' ? true : undefined));

    const all = await call(base, 'GET', v1('/deliveries'), { token: tokenA });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.json.data.slice(0, 2).map((record: { eventId: string }) => record.eventId), [second.id, first.id], 'newest first');
    const filters: Array<[string, string[]]> = [
      ['?status=failed', [first.id]],
      ['?eventType=queue.created', [second.id]],
      ['?webhookId=wh_delivered&status=succeeded', [second.id]],
      ['?webhookId=wh_delivered&eventType=call.created', [first.id]],
      ['?webhookId=wh_delivered&status=failed&eventType=call.created', [first.id]],
      ['?status=failed&eventType=call.created', [first.id]],
      [`?webhookId=wh_delivered&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, []],
      [`?until=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`, []],
    ];
    for (const [query, expected] of filters) {
      const answer = await call(base, 'GET', v1(`/deliveries${query}`), { token: tokenA });
      assert.equal(answer.status, 200, `${query}: ${answer.text}`);
      assert.deepEqual(answer.json.data.map((record: { eventId: string }) => record.eventId), expected, query);
    }
    const page1 = await call(base, 'GET', v1('/deliveries?limit=1'), { token: tokenA });
    const page2 = await call(base, 'GET', v1(`/deliveries?limit=1&cursor=${page1.json.nextCursor}`), { token: tokenA });
    assert.deepEqual([page1.json.data[0].eventId, page2.json.data[0].eventId], [second.id, first.id], 'the cursor resumes after the last record');
    const forged = Buffer.from(JSON.stringify({ createdAt: '1.000000000', path: `accounts/${B}/webhooks/w/deliveries/e` })).toString('base64url');
    assert.equal((await call(base, 'GET', v1(`/deliveries?cursor=${forged}`), { token: tokenA })).status, 400, "a cursor into another account's log is refused");
    for (const path of [`accounts/${A}/webhooks//deliveries/e`, `accounts/${A}/webhooks/w/deliveries/`, `accounts/${A}/webhooks/../deliveries/e`]) {
      const crafted = Buffer.from(JSON.stringify({ createdAt: '1.000000000', path })).toString('base64url');
      assert.equal((await call(base, 'GET', v1(`/deliveries?cursor=${crafted}`), { token: tokenA })).status, 400, `a cursor with an empty or dot id (${path}) is a 400, not a 500`);
    }
    // B sees none of A's deliveries.
    assert.deepEqual((await call(base, 'GET', `/v1/accounts/${B}/deliveries`, { token: tokenB })).json.data, []);

    // The replayed request is held until the second replay was tried: it is then still in progress.
    let release!: () => void;
    holding.set('/delivered/c1', new Promise<void>((resolve) => (release = resolve)));
    const replay = await call(base, 'POST', v1(`/webhooks/wh_delivered/deliveries/${first.id}/replay`), { token: tokenA });
    assert.equal(replay.status, 202, replay.text);
    assert.equal(replay.json.status, 'retrying');
    const again = await call(base, 'POST', v1(`/webhooks/wh_delivered/deliveries/${first.id}/replay`), { token: tokenA });
    holding.delete('/delivered/c1');
    release();
    assert.equal(again.status, 409, 'a replay in progress is not started twice');
    const replayed = await until('the replay to succeed', async () => {
      const answer = await call(base, 'GET', v1(`/webhooks/wh_delivered/deliveries/${first.id}`), { token: tokenA });
      return answer.json?.status === 'succeeded' ? answer : undefined;
    });
    assert.equal(replayed.json.attempts.length, 2);
    assert.equal(replayed.json.replays[0].previousStatus, 'failed');
  });

  it('bulk recover replays every failed delivery since T through Cloud Tasks, with a job to poll', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    failing.add('/delivered/r1').add('/delivered/r2');
    const events = [eventOf('call.created', A, { call: { id: 'r1' } }), eventOf('call.created', A, { call: { id: 'r2' } })];
    for (const event of events) await pubsub.topic(topic).publishMessage({ json: event, attributes: { type: event.type, accountId: A } });
    for (const event of events) await until('a failed delivery', async () => ((await call(base, 'GET', v1(`/webhooks/wh_delivered/deliveries/${event.id}`), { token: tokenA })).json?.status === 'failed' ? true : undefined));
    failing.clear();
    const dispatchedBefore = tasks.dispatched.length;
    const job = await call(base, 'POST', v1('/recover-jobs'), { token: tokenA, body: { since } });
    assert.equal(job.status, 201, job.text);
    assert.equal(job.json.matched, 2);
    assert.equal(job.json.replayed, 2);
    assert.equal(job.json.state, 'done');
    ids.jobId = job.json.id;
    const finished = await until('the job to finish', async () => {
      const answer = await call(base, 'GET', v1(`/recover-jobs/${job.json.id}`), { token: tokenA });
      return answer.json?.progress?.finished ? answer : undefined;
    });
    assert.deepEqual(finished.json.progress.byStatus, { succeeded: 2 });
    // The worker answers Cloud Tasks after its last write (the webhook's health, after the record): once both
    // replays are answered, nothing of this test writes the webhook behind the next test's snapshot.
    await until('both replays answered', () => (tasks.dispatched.slice(dispatchedBefore).filter((item) => item.status === 200).length >= 2 ? true : undefined));
  });

  it('preview renders the exact request for the sample, supplied data, or a past event of the account; secrets as placeholders', async () => {
    await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: webhookBody('preview', { id: 'wh_preview', headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' } }) });
    const sample = await call(base, 'POST', v1('/webhooks/wh_preview/preview'), { token: tokenA });
    assert.equal(sample.status, 200, sample.text);
    assert.equal(sample.json.method, 'POST');
    assert.equal(sample.json.url, `${receiver.url}/preview/call_8GkT2pXq`);
    assert.equal(sample.json.headers.Authorization, 'Bearer placeholder-TOKEN');
    assert.equal(JSON.parse(sample.json.body).type, 'call.created');
    const data = await call(base, 'POST', v1('/webhooks/wh_preview/preview'), { token: tokenA, body: { data: { call: { id: 'mine' } } } });
    assert.equal(data.json.url, `${receiver.url}/preview/mine`);
    const past = await call(base, 'POST', v1('/webhooks/wh_preview/preview'), { token: tokenA, body: { eventId: ids.eventId } });
    assert.equal(past.status, 200, past.text);
    assert.equal(past.json.url, `${receiver.url}/preview/c1`, "another webhook's past event of the same account");
    assert.equal(past.json.event.source, 'event');
    assert.deepEqual(past.json.filter.pass, true, 'no filter: every event passes');
    // A filter: the preview says whether the event passes and which condition failed, as the dispatcher decides.
    const filter = { 'data.call.id': { $eq: 'wanted' } };
    const retry = { attempts: 2, retryOn: [408, '5xx'] };
    const createdFiltered = await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: webhookBody('filtered', { id: 'wh_filtered', filter, retry }) });
    assert.equal(createdFiltered.status, 201, createdFiltered.text);
    // Stored as written, as the console would (the schema's compiled forms are not a document).
    const storedFiltered = (await db.doc(webhookPath(A, 'wh_filtered')).get()).data();
    assert.deepEqual([storedFiltered?.filter, storedFiltered?.retry], [filter, retry]);
    const patched = await call(base, 'PATCH', v1('/webhooks/wh_filtered'), { token: tokenA, headers: { 'If-Match': '*' }, body: { retry: { attempts: 3, retryOn: ['5xx'] } }, contentType: 'application/merge-patch+json' });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual((await db.doc(webhookPath(A, 'wh_filtered')).get()).data()?.retry, { attempts: 3, retryOn: ['5xx'] });
    const passes = await call(base, 'POST', v1('/webhooks/wh_filtered/preview'), { token: tokenA, body: { data: { call: { id: 'wanted' } } } });
    assert.equal(passes.status, 200, passes.text);
    assert.equal(passes.json.filter.pass, true);
    const filtered = await call(base, 'POST', v1('/webhooks/wh_filtered/preview'), { token: tokenA, body: { data: { call: { id: 'other' } } } });
    assert.equal(filtered.status, 200, filtered.text);
    assert.equal(filtered.json.filter.pass, false);
    assert.match(filtered.json.filter.at, /data\.call\.id/);
    assert.equal(filtered.json.url, `${receiver.url}/filtered/other`, 'rendered either way');
    // A past event of another account is not found, from either side.
    await db.doc(webhookPath(B, 'wh_b')).set({ name: 'b', events: ['call.created'], url: 'https://example.com/b' });
    assert.equal((await call(base, 'POST', `/v1/accounts/${B}/webhooks/wh_b/preview`, { token: tokenB, body: { eventId: ids.eventId } })).status, 404);
  });

  it('draft preview: an unsaved webhook is checked and rendered like the dispatcher would, against the sample, supplied data or a past event; nothing is written', async () => {
    const snapshot = async () => {
      const [hooks, audit] = await Promise.all([db.collection(webhooksPath(A)).get(), db.collection(auditPath(A)).get()]);
      return JSON.stringify([hooks.docs.map((doc) => [doc.id, doc.updateTime?.toMillis()]), audit.size]);
    };
    const before = await snapshot();
    const draft = { name: 'draft', events: ['call.created'], url: `${receiver.url}/draft/{{ data.call.id }}`, headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' }, body: '{"call": "{{ data.call.id }}", "hook": "{{ webhook.id }}"}' };
    const sample = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: draft } });
    assert.equal(sample.status, 200, sample.text);
    assert.deepEqual(sample.json.validation, { ok: true, errors: [], warnings: [] });
    assert.equal(sample.json.renderError, null);
    assert.equal(sample.json.preview.url, `${receiver.url}/draft/call_8GkT2pXq`);
    assert.equal(sample.json.preview.headers.Authorization, 'Bearer placeholder-TOKEN', 'secrets as placeholders');
    assert.deepEqual(JSON.parse(sample.json.preview.body), { call: 'call_8GkT2pXq', hook: 'wh_draft' });
    assert.equal(sample.json.preview.event.source, 'sample');
    // The same answer as the saved webhook's preview, field for field.
    const saved = await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: { ...draft, id: 'wh_draft_saved' } });
    assert.equal(saved.status, 201, saved.text);
    const savedPreview = await call(base, 'POST', v1('/webhooks/wh_draft_saved/preview'), { token: tokenA, body: { data: { call: { id: 'mine' } } } });
    const draftPreview = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: draft, webhookId: 'wh_draft_saved', data: { call: { id: 'mine' } } } });
    assert.equal(draftPreview.status, 200, draftPreview.text);
    const { occurredAt: _a, id: _i, ...savedEvent } = savedPreview.json.event;
    const { occurredAt: _b, id: _j, ...draftEvent } = draftPreview.json.preview.event;
    assert.deepEqual({ ...draftPreview.json.preview, event: draftEvent }, { ...savedPreview.json, event: savedEvent });
    assert.equal(draftPreview.json.preview.url, `${receiver.url}/draft/mine`);

    // A past event of the account, found through any webhook's record of it (the draft has no id yet).
    const past = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: draft, eventId: ids.eventId } });
    assert.equal(past.status, 200, past.text);
    assert.equal(past.json.preview.url, `${receiver.url}/draft/c1`);
    assert.deepEqual([past.json.preview.event.id, past.json.preview.event.source], [ids.eventId, 'event']);
    assert.equal((await call(base, 'POST', `/v1/accounts/${B}/webhooks/preview`, { token: tokenB, body: { webhook: draft, eventId: ids.eventId } })).status, 404, "another account's event is not found");
    assert.equal((await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: draft, eventId: ids.eventId, eventType: 'call.created' } })).status, 422);

    // The filter's verdict, as the dispatcher decides.
    const filtered = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: { ...draft, filter: { 'data.call.id': 'wanted' } }, data: { call: { id: 'other' } } } });
    assert.equal(filtered.json.preview.filter.pass, false);
    assert.match(filtered.json.preview.filter.at, /data\.call\.id/);

    // A draft that does not compile: no request, the error with its line and column, as a save would refuse it.
    const broken = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: { ...draft, body: '{"a": 1,\n "b": "{{ data.call.id | nope }}"}' } } });
    assert.equal(broken.status, 200, broken.text);
    assert.equal(broken.json.preview, null);
    assert.equal(broken.json.validation.ok, false);
    const error = broken.json.validation.errors.find((item: { field: string }) => item.field === 'body');
    assert.deepEqual([error?.line, typeof error?.column], [2, 'number'], JSON.stringify(broken.json.validation));
    assert.match(error.message, /nope/);
    const refusedSave = await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: { ...draft, body: '{"a": 1,\n "b": "{{ data.call.id | nope }}"}' } });
    assert.equal(refusedSave.status, 422);
    assert.deepEqual(refusedSave.json.errors.map((item: { message: string }) => item.message), broken.json.validation.errors.map((item: { message: string }) => item.message), 'the same messages a save refuses with');
    // One that renders for the sample but not for this data: the render error, placed.
    const renderError = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: { ...draft, body: '{"n": {{ data.call.n }}}' }, data: { call: { n: 'not a number' } } } });
    assert.equal(renderError.status, 200, renderError.text);
    assert.equal(renderError.json.preview, null);
    assert.equal(renderError.json.renderError.field, 'body');
    // A draft that is not a webhook yet: its schema errors, no request.
    const partial = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: { name: '', events: ['call.exploded'], url: '' } } });
    assert.equal(partial.status, 200, partial.text);
    assert.equal(partial.json.preview, null);
    assert.deepEqual([...new Set(partial.json.validation.errors.map((item: { field: string }) => item.field))].sort(), ['events[0]', 'name', 'url']);
    // Not a document at all: refused by the route's schema.
    const notDocument = await call(base, 'POST', v1('/webhooks/preview'), { token: tokenA, body: { webhook: ['x'] } });
    assert.equal(notDocument.status, 422);
    assert.equal(notDocument.json.errors[0].field, 'webhook');

    assert.equal((await call(base, 'DELETE', v1('/webhooks/wh_draft_saved'), { token: tokenA })).status, 204);
    const [hooks, audit] = JSON.parse(await snapshot()) as [unknown[], number];
    const [hooksBefore, auditBefore] = JSON.parse(before) as [unknown[], number];
    assert.deepEqual(hooks, hooksBefore, 'previews wrote no webhook');
    assert.equal(audit, auditBefore + 2, 'and no audit entry (the two are the create and delete above)');
  });

  it('a replay needs deliveries:read besides deliveries:replay: it answers with the delivery', async () => {
    const replayOnly = (await call(base, 'POST', `/v1/accounts/${A}/portal-sessions`, { token: keys.a, body: { scopes: ['deliveries:replay'], expiresInSeconds: 300 } })).json.token as string;
    const before = (await call(base, 'GET', v1(`/webhooks/${ids.webhook}/deliveries/${ids.eventId}`), { token: tokenA })).json;
    for (const eventId of [ids.eventId, 'evt_never_seen']) {
      const refused = await call(base, 'POST', v1(`/webhooks/${ids.webhook}/deliveries/${eventId}/replay`), { token: replayOnly });
      assert.equal(refused.status, 403, `${eventId}: ${refused.text}`);
      assert.equal(refused.json.code, 'insufficient_scope');
      assert.equal(refused.json.requiredScope, 'deliveries:read');
      assert.equal(refused.json.attempts, undefined, 'nothing of the delivery');
    }
    assert.deepEqual((await call(base, 'GET', v1(`/webhooks/${ids.webhook}/deliveries/${ids.eventId}`), { token: tokenA })).json, before, 'not replayed');
    // The OpenAPI document says so too: both scopes in the route's security.
    const openapi = (await call(base, 'GET', '/v1/openapi.json')).json;
    assert.deepEqual(Object.values(openapi.paths['/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries/{eventId}/replay'].post.security[0])[0], ['deliveries:replay', 'deliveries:read']);
  });

  it('a preview against a past event (eventId) needs deliveries:read besides webhooks:read: the event is the delivery log\'s', async () => {
    const mint = async (scopes: string[]) => (await call(base, 'POST', `/v1/accounts/${A}/portal-sessions`, { token: keys.a, body: { scopes, expiresInSeconds: 300 } })).json.token as string;
    const readOnly = await mint(['webhooks:read']);
    const withDeliveries = await mint(['webhooks:read', 'deliveries:read']);
    const draft = webhookBody('scoped-preview');
    const asked = [
      { name: 'saved', path: v1(`/webhooks/${ids.webhook}/preview`), body: {} as Record<string, unknown> },
      { name: 'saved, missing webhook', path: v1('/webhooks/wh_missing/preview'), body: {} as Record<string, unknown> },
      { name: 'draft', path: v1('/webhooks/preview'), body: { webhook: draft } as Record<string, unknown> },
    ];
    for (const { name, path, body } of asked) {
      const refused = await call(base, 'POST', path, { token: readOnly, body: { ...body, eventId: ids.eventId } });
      assert.equal(refused.status, 403, `${name}: ${refused.text}`);
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
      assert.equal(refused.json.code, 'insufficient_scope');
      assert.equal(refused.json.requiredScope, 'deliveries:read', name);
      assert.match(refused.json.detail, /eventId.*deliveries:read/, name);
      assert.deepEqual([refused.json.url, refused.json.preview], [undefined, undefined], `${name}: nothing of the event`);
    }
    // The same answer whether the event exists or not: nothing is looked up before the scope.
    const missingEvent = await call(base, 'POST', v1(`/webhooks/${ids.webhook}/preview`), { token: readOnly, body: { eventId: 'evt_never_seen' } });
    assert.equal(missingEvent.status, 403);
    // Without eventId, webhooks:read is enough; with deliveries:read too, the past event renders.
    assert.equal((await call(base, 'POST', v1(`/webhooks/${ids.webhook}/preview`), { token: readOnly, body: {} })).status, 200);
    assert.equal((await call(base, 'POST', v1('/webhooks/preview'), { token: readOnly, body: { webhook: draft } })).status, 200);
    const saved = await call(base, 'POST', v1(`/webhooks/${ids.webhook}/preview`), { token: withDeliveries, body: { eventId: ids.eventId } });
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.json.event.source, 'event');
    const drafted = await call(base, 'POST', v1('/webhooks/preview'), { token: withDeliveries, body: { webhook: draft, eventId: ids.eventId } });
    assert.equal(drafted.status, 200, drafted.text);
    assert.equal(drafted.json.preview.url, `${receiver.url}/scoped-preview/c1`);
    // A portal session holds deliveries:read unless narrowed: the portal's "a recent event" keeps working.
    const portalScopes = JSON.parse(Buffer.from(tokenA.split('.')[1]!, 'base64url').toString()).scope.split(' ');
    assert.ok(portalScopes.includes('deliveries:read') && portalScopes.includes('webhooks:read'), portalScopes.join(' '));
  });

  it("signing secret: a name outside the signing secrets' (an OAuth2 client secret) is refused before anything is written", async () => {
    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8'));
    writeFileSync(secretsFile, JSON.stringify({ ...secrets, [A]: { ...secrets[A], OAUTH_CLIENT_SECRET: 'the-client-secret' } }));
    const auditBefore = (await db.collection(auditPath(A)).get()).size;
    const documentBefore = (await db.doc(webhookPath(A, 'wh_preview')).get()).data();
    const refused = await call(base, 'PUT', v1('/webhooks/wh_preview/signing-secret'), { token: tokenA, body: { secret: SIGNING_SECRET, name: 'OAUTH_CLIENT_SECRET' } });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json.errors[0].field, 'name');
    assert.equal(JSON.parse(readFileSync(secretsFile, 'utf8'))[A].OAUTH_CLIENT_SECRET, 'the-client-secret', 'the other secret is untouched');
    assert.equal((await db.collection(auditPath(A)).get()).size, auditBefore, 'no audit entry for a refused request');
    assert.deepEqual((await db.doc(webhookPath(A, 'wh_preview')).get()).data(), documentBefore);

    // Pointing the webhook at that secret first (any writer may set signingSecretName) does not open the way.
    const pointed = await call(base, 'PATCH', v1('/webhooks/wh_preview'), { token: tokenA, body: { signingSecretName: 'OAUTH_CLIENT_SECRET' }, contentType: 'application/merge-patch+json', headers: { 'if-match': '*' } });
    assert.equal(pointed.status, 200, pointed.text);
    for (const body of [{ secret: SIGNING_SECRET }, { secret: SIGNING_SECRET, name: 'OAUTH_CLIENT_SECRET' }]) {
      const again = await call(base, 'PUT', v1('/webhooks/wh_preview/signing-secret'), { token: tokenA, body });
      assert.equal(again.status, 422, `${JSON.stringify(Object.keys(body))}: ${again.text}`);
      assert.equal(again.json.errors[0].field, 'name');
      assert.equal(JSON.parse(readFileSync(secretsFile, 'utf8'))[A].OAUTH_CLIENT_SECRET, 'the-client-secret', 'the other secret is untouched');
    }
    const restored = await call(base, 'PATCH', v1('/webhooks/wh_preview'), { token: tokenA, body: { signingSecretName: documentBefore?.signingSecretName ?? null }, contentType: 'application/merge-patch+json', headers: { 'if-match': '*' } });
    assert.equal(restored.status, 200, restored.text);
  });

  it('signing secret: written to the secret store, never answered or logged; a test send is signed with it and recorded as a test delivery', async () => {
    const set = await call(base, 'PUT', v1('/webhooks/wh_preview/signing-secret'), { token: tokenA, body: { secret: SIGNING_SECRET } });
    assert.equal(set.status, 200, set.text);
    assert.match(set.json.name, /^SIGNING_[0-9A-F]{12}$/);
    assert.equal(set.json.webhook.signingSecretName, set.json.name);
    const named = (await db.doc(webhookPath(A, 'wh_preview')).get()).data()!;
    assert.equal(named.validation.configHash, webhookConfigHash(named), 'naming the secret is validated like any change: the stored result is about the document as it is');
    assert.equal(JSON.parse(readFileSync(secretsFile, 'utf8'))[A][set.json.name], SIGNING_SECRET);
    const weak = await call(base, 'PUT', v1('/webhooks/wh_preview/signing-secret'), { token: tokenA, body: { secret: 'whsec_short' } });
    assert.equal(weak.status, 422);
    assert.equal(weak.json.errors[0].field, 'secret');
    writeFileSync(secretsFile, JSON.stringify({ ...JSON.parse(readFileSync(secretsFile, 'utf8')), [A]: { ...JSON.parse(readFileSync(secretsFile, 'utf8'))[A], TOKEN: 'tok_test' } }));

    const before = receiver.requests.length;
    const sent = await call(base, 'POST', v1('/webhooks/wh_preview/test'), { token: tokenA, body: { data: { call: { id: 'tested' } } } });
    assert.equal(sent.status, 201, sent.text);
    assert.match(sent.json.eventId, /^evt_test_/);
    assert.equal(sent.json.status, 'succeeded');
    const request = receiver.requests.slice(before).find((item) => item.url === '/preview/tested')!;
    assert.ok(request, 'the receiver got the test event');
    assert.equal(request.headers.authorization, 'Bearer tok_test');
    new StandardWebhook(SIGNING_SECRET).verify(request.body, request.headers as Record<string, string>);
    for (const [where, text] of [['API logs', api.output()], ['answer', set.text + sent.text]] as const) {
      assert.ok(!text.includes(SIGNING_SECRET) && !text.includes(SIGNING_SECRET.slice(6)), `the signing secret is not in the ${where}`);
    }
    assert.ok(!api.output().includes(keys.all) && !api.output().includes(tokenA), 'credentials are not logged');
  });

  it("signing secret rotation: the previous secret signs too for 24 hours (or none with keepPreviousSeconds 0), whatever else the webhook's writers change", async () => {
    const key = (n: number) => `whsec_${Buffer.alloc(32, n).toString('base64')}`;
    const created = await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: webhookBody('rotation', { id: 'wh_rotation' }) });
    assert.equal(created.status, 201, created.text);
    const put = (body: Record<string, unknown>) => call(base, 'PUT', v1('/webhooks/wh_rotation/signing-secret'), { token: tokenA, body });
    /** A test delivery, and the secrets its signature verifies with (of key(1..5)). */
    const verifiesWith = async () => {
      const before = receiver.requests.length;
      const sent = await call(base, 'POST', v1('/webhooks/wh_rotation/test'), { token: tokenA, body: { data: { call: { id: 'rotated' } } } });
      assert.equal(sent.status, 201, sent.text);
      const request = receiver.requests.slice(before).find((item) => item.url === '/rotation/rotated')!;
      return [1, 2, 3, 4, 5].filter((n) => {
        try {
          new StandardWebhook(key(n)).verify(request.body, request.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      });
    };
    const stored = async () => fromFirestore<Record<string, any>>((await db.doc(webhookPath(A, 'wh_rotation')).get()).data());

    const beforeFirst = Date.now();
    const first = await put({ secret: key(1) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.previous, null, 'a first secret has nothing to keep');
    assert.deepEqual(await verifiesWith(), [1]);
    // Stamped once the value is stored: instances whose copy of the secrets is older read them again.
    const firstSetAt = Date.parse(first.json.webhook.signingSecretSetAt);
    assert.ok(firstSetAt >= beforeFirst - 1000 && firstSetAt <= Date.now() + 1000, first.json.webhook.signingSecretSetAt);
    assert.equal((await stored()).signingSecretSetAt.getTime(), firstSetAt, 'a time in the document (a Timestamp)');

    // A copy that shares the secret's name (the portal's Duplicate), and one that does not.
    for (const [id, extra] of [['wh_rotation_copy', { signingSecretName: first.json.name }], ['wh_rotation_other', {}]] as const) {
      const made = await call(base, 'POST', v1('/webhooks'), { token: tokenA, body: webhookBody('rotation', { id, ...extra }) });
      assert.equal(made.status, 201, made.text);
    }
    const started = Date.now();
    const rotated = await put({ secret: key(2) });
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(rotated.json.name, first.json.name, 'the same name, as before rotations kept it');
    assert.equal(rotated.json.previous.name, `${first.json.name}_PREVIOUS`);
    const until = Date.parse(rotated.json.previous.until);
    assert.ok(until >= started + 86_400_000 - 5_000 && until <= Date.now() + 86_400_000 + 5_000, rotated.json.previous.until);
    assert.deepEqual(rotated.json.webhook.previousSigningSecret, rotated.json.previous);
    assert.ok(Date.parse(rotated.json.webhook.signingSecretSetAt) >= firstSetAt, 'stamped again');
    // The name is the account's: the copy that signs with it is stamped too, so its instances read the new value.
    const stampOf = async (id: string) => fromFirestore<Record<string, any>>((await db.doc(webhookPath(A, id)).get()).data()).signingSecretSetAt as Date | undefined;
    assert.equal((await stampOf('wh_rotation_copy'))?.toISOString(), rotated.json.webhook.signingSecretSetAt);
    assert.equal(await stampOf('wh_rotation_other'), undefined);
    for (const id of ['wh_rotation_copy', 'wh_rotation_other']) assert.equal((await call(base, 'DELETE', v1(`/webhooks/${id}`), { token: tokenA })).status, 204);
    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8'))[A];
    assert.deepEqual([secrets[first.json.name], secrets[`${first.json.name}_PREVIOUS`]], [key(2), key(1)], 'the old value was copied inside the store');
    assert.ok(!rotated.text.includes(key(1).slice(6)) && !rotated.text.includes(key(2).slice(6)), 'no secret in the answer');
    const document = await stored();
    assert.equal(document.validation.configHash, webhookConfigHash(document), 'the overlap is not configuration: the validation stands');
    assert.deepEqual(await verifiesWith(), [1, 2], 'receivers on either secret accept');

    // The same request sent again (a retry, a double click) keeps the overlap it made: the new value is
    // not copied over the previous one.
    const again = await put({ secret: key(2) });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json.previous, rotated.json.previous);
    assert.equal(JSON.parse(readFileSync(secretsFile, 'utf8'))[A][`${first.json.name}_PREVIOUS`], key(1));
    assert.deepEqual(await verifiesWith(), [1, 2]);

    // The portal's editor saves the whole webhook: the overlap stays.
    const replaced = await call(base, 'PUT', v1('/webhooks/wh_rotation'), { token: tokenA, body: webhookBody('rotation', { name: 'renamed', signingSecretName: first.json.name }), headers: { 'if-match': '*' } });
    assert.equal(replaced.status, 200, replaced.text);
    assert.deepEqual(replaced.json.previousSigningSecret, rotated.json.previous);
    assert.equal(replaced.json.signingSecretSetAt, again.json.webhook.signingSecretSetAt, 'the stamp is kept across a replace');
    assert.deepEqual(await verifiesWith(), [1, 2]);

    // A new name keeps the old secret where it is; after a leak, keepPreviousSeconds 0 ends it at once.
    const renamed = await put({ secret: key(3), name: 'SIGNING_ROTATION_B' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json.previous.name, first.json.name);
    assert.equal(renamed.json.webhook.signingSecretName, 'SIGNING_ROTATION_B');
    assert.deepEqual(renamed.json.webhook.previousSigningSecret, renamed.json.previous, 'the rename keeps the overlap it is about');
    assert.deepEqual(await verifiesWith(), [2, 3]);
    // Pointing the webhook at another secret by hand ends an overlap about an older one; back again, none comes back.
    const byHand = await call(base, 'PATCH', v1('/webhooks/wh_rotation'), { token: tokenA, body: { signingSecretName: first.json.name }, contentType: 'application/merge-patch+json', headers: { 'if-match': '*' } });
    assert.equal(byHand.status, 200, byHand.text);
    assert.equal(byHand.json.previousSigningSecret, undefined);
    assert.deepEqual(await verifiesWith(), [2]);
    const back = await call(base, 'PATCH', v1('/webhooks/wh_rotation'), { token: tokenA, body: { signingSecretName: 'SIGNING_ROTATION_B' }, contentType: 'application/merge-patch+json', headers: { 'if-match': '*' } });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(await verifiesWith(), [3]);
    const leaked = await put({ secret: key(4), keepPreviousSeconds: 0 });
    assert.equal(leaked.status, 200, leaked.text);
    assert.equal(leaked.json.previous, null);
    assert.equal((await stored()).previousSigningSecret, undefined);
    assert.deepEqual(await verifiesWith(), [4]);

    for (const keepPreviousSeconds of [-1, 1.5, 7 * 86_400 + 1, '60']) {
      const refused = await put({ secret: key(5), keepPreviousSeconds });
      assert.equal(refused.status, 422, `${keepPreviousSeconds}: ${refused.text}`);
      assert.equal(refused.json.errors[0].field, 'keepPreviousSeconds');
    }
    assert.deepEqual(await verifiesWith(), [4], 'a refused request changed nothing');
  });

  it('event types: the catalogue with descriptions, variables and samples', async () => {
    const answer = await call(base, 'GET', v1('/event-types'), { token: tokenA });
    assert.equal(answer.status, 200);
    // The platform's 26 events and hookshape's own operational events, which an account may subscribe to.
    assert.deepEqual(answer.json.data.map((item: { type: string }) => item.type).sort(), [...EVENT_TYPES].sort());
    assert.equal(EVENT_TYPES.length, 26 + OPERATIONAL_EVENT_TYPES.length);
    const call1 = answer.json.data.find((item: { type: string }) => item.type === 'call.created');
    assert.ok(call1.description && call1.variables.length > 0 && call1.sample.call.id);
  });

  // --- Credentials ---------------------------------------------------------------------------------

  const now = () => Math.floor(Date.now() / 1000);
  async function forge(claims: Record<string, unknown>, options: { jwk?: JWK; kid?: string; iat?: number; nbf?: number; exp?: number; iss?: string; aud?: string } = {}): Promise<string> {
    const jwk = options.jwk ?? signingJwk;
    const iat = options.iat ?? now();
    return new SignJWT({ acc: A, scope: 'webhooks:read webhooks:write deliveries:read deliveries:replay', ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: options.kid ?? String(jwk.kid), typ: 'JWT' })
      .setIssuer(options.iss ?? 'hookshape')
      .setAudience(options.aud ?? 'hookshape-api')
      .setSubject('forged')
      .setIssuedAt(iat)
      .setNotBefore(options.nbf ?? iat)
      .setExpirationTime(options.exp ?? iat + 600)
      .sign(await importJWK(jwk, 'EdDSA'));
  }

  it('a token signed with the older key of a rotation is accepted; the forged ones are not', async () => {
    assert.equal((await call(base, 'GET', v1('/webhooks'), { token: await forge({}, { jwk: oldJwk }) })).status, 200, 'the second key still verifies');
    assert.equal((await call(base, 'GET', v1('/webhooks'), { token: await forge({}) })).status, 200, 'a well-formed token of our own key passes (the forgeries below differ in one thing)');
    assert.equal((await call(base, 'GET', v1('/webhooks'), { token: await forge({}, { exp: now() + 7200 }) })).status, 401, 'a token signed for more than an hour is refused');
    assert.equal((await call(base, 'GET', v1('/webhooks'), { token: 'dev-key-not-registered' })).status, 401, 'HOOKSHAPE_DEV_API_KEY switches nothing on in the function');
  });

  it('a key scoped to account A cannot mint a token for B, nor read B', async () => {
    const minted = await call(base, 'POST', `/v1/accounts/${B}/portal-sessions`, { token: keys.a });
    assert.equal(minted.status, 404);
    assert.equal(minted.json.token, undefined);
    assert.equal((await call(base, 'GET', `/v1/accounts/${B}/webhooks`, { token: keys.a })).status, 404);
    const own = await call(base, 'POST', `/v1/accounts/${A}/portal-sessions`, { token: keys.a, body: { scopes: ['deliveries:read'], expiresInSeconds: 120 } });
    assert.equal(own.status, 201);
    assert.ok(own.json.url.endsWith(`#token=${own.json.token}`));
    const payload = JSON.parse(Buffer.from(own.json.token.split('.')[1], 'base64url').toString());
    assert.deepEqual([payload.acc, payload.scope, payload.exp - payload.iat], [A, 'deliveries:read', 120]);
    assert.equal((await call(base, 'GET', v1('/webhooks'), { token: own.json.token })).status, 403, 'a token has only its scopes');
  });

  it('Idempotency-Key: the same create sent again gets the first answer and creates nothing; another request with the key is refused; a failed one frees it', async () => {
    const create = (key: string, body: unknown) => call(base, 'POST', v1('/webhooks'), { token: tokenA, body, headers: { 'Idempotency-Key': key } });
    const named = async (name: string) => (await call(base, 'GET', v1('/webhooks?limit=100'), { token: tokenA })).json.data.filter((webhook: { name: string }) => webhook.name === name).length;
    const body = webhookBody('idem', { name: 'idempotent create' });
    const first = await create('idem-1', body);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await create('idem-1', body);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual([again.json.id, again.headers.get('location'), again.headers.get('etag')], [first.json.id, first.headers.get('location'), first.headers.get('etag')]);
    assert.equal(await named('idempotent create'), 1, 'one webhook');
    // Kept in Firestore by the sha256 of the key, with its expiry (a TTL policy deletes it).
    const kept = (await db.doc(`accounts/${A}/idempotencyKeys/${createHash('sha256').update('idem-1').digest('hex')}`).get()).data()!;
    assert.ok(Math.abs(kept.expiresAt.toMillis() - Date.now() - 86_400_000) < 60_000, 'kept a day');
    assert.equal(kept.answer.status, 201);

    const reused = await create('idem-1', { ...body, name: 'another request' });
    assert.equal(reused.status, 422, reused.text);
    assert.equal(reused.json.code, 'idempotency_key_reused');
    assert.equal(reused.json.errors[0].field, 'Idempotency-Key');
    assert.equal(await named('another request'), 0);

    // A refused request frees its key: the corrected one may use it.
    const refused = await create('idem-2', { ...body, url: 'not a url' });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.json.code, 'validation_failed');
    const corrected = await create('idem-2', { ...body, name: 'corrected' });
    assert.equal(corrected.status, 201, corrected.text);

    // Five at once with one key: one webhook; each answer the first one's, or "in progress" (409).
    const racing = await Promise.all(Array.from({ length: 5 }, () => create('idem-3', { ...body, name: 'raced' })));
    assert.ok(racing.every((answer) => answer.status === 201 || (answer.status === 409 && answer.json.code === 'idempotency_key_in_use' && answer.headers.get('retry-after') === '1')), racing.map((answer) => answer.status).join(', '));
    assert.equal(new Set(racing.filter((answer) => answer.status === 201).map((answer) => answer.json.id)).size, 1);
    assert.equal(await named('raced'), 1);

    // A malformed key is a 400 naming the header; a refused credential takes no key.
    const malformed = await create('with space', { ...body, name: 'malformed key' });
    assert.equal(malformed.status, 400, malformed.text);
    assert.equal(malformed.json.errors[0].field, 'Idempotency-Key');
    assert.equal((await call(base, 'POST', v1('/webhooks'), { token: 'hks_not_a_key', body: { ...body, name: 'after 401' }, headers: { 'Idempotency-Key': 'idem-4' } })).status, 401);
    const after401 = await create('idem-4', { ...body, name: 'after 401' });
    assert.equal(after401.status, 201, after401.text);
    assert.equal(after401.headers.get('idempotent-replayed'), null);

    // A test send sent again with its key: one event, one request to the receiver.
    const before = receiver.requests.length;
    const test = (key: string) => call(base, 'POST', v1(`/webhooks/${first.json.id as string}/test`), { token: tokenA, body: {}, headers: { 'Idempotency-Key': key } });
    const sent = await test('idem-test');
    assert.equal(sent.status, 201, sent.text);
    const resent = await test('idem-test');
    assert.equal(resent.json.eventId, sent.json.eventId);
    assert.equal(resent.headers.get('idempotent-replayed'), 'true');
    assert.equal(receiver.requests.slice(before).length, 1, 'sent once');
  });

  it('cross-tenant matrix: every route of the OpenAPI document × every bad credential is refused with the right status, and never says whether the resource exists', async () => {
    const document = (await call(base, 'GET', '/v1/openapi.json')).json as { paths: Record<string, Record<string, { security?: Array<Record<string, string[]>>; 'x-hookshape-scope'?: string }>> };
    const strangerKey = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const strangerJwk = { ...(await exportJWK(strangerKey.privateKey)), kid: 'k-current' };
    const unknownKidJwk = { ...strangerJwk, kid: 'k-unknown' };
    const allScopes = ['webhooks:read', 'webhooks:write', 'deliveries:read', 'deliveries:replay'];
    const none = `${b64url({ alg: 'none', typ: 'JWT', kid: 'k-current' })}.${b64url({ acc: A, scope: allScopes.join(' '), sub: 'x', iss: 'hookshape', aud: 'hookshape-api', iat: now(), nbf: now(), exp: now() + 600 })}.`;
    const cells: Array<{ name: string; status: number; token: (scope: string) => Promise<string | undefined> | string | undefined; header?: string }> = [
      { name: 'no credential', status: 401, token: () => undefined },
      { name: 'malformed', status: 401, token: () => 'eyJhbGciOi.not-a-token.x' },
      { name: 'not a bearer credential', status: 401, token: () => undefined, header: `Basic ${Buffer.from(`x:${keys.all}`).toString('base64')}` },
      { name: 'expired', status: 401, token: () => forge({}, { iat: now() - 900, exp: now() - 60 }) },
      { name: 'not yet valid', status: 401, token: () => forge({}, { iat: now(), nbf: now() + 600, exp: now() + 1200 }) },
      { name: 'wrong signature', status: 401, token: () => forge({}, { jwk: strangerJwk }) },
      { name: 'alg none', status: 401, token: () => none },
      { name: 'unknown kid', status: 401, token: () => forge({}, { jwk: unknownKidJwk }) },
      { name: 'revoked key', status: 401, token: () => keys.revoked },
      { name: "other account's token", status: 404, token: () => tokenB },
      { name: "other account's key", status: 404, token: () => keys.b },
      { name: 'missing scope', status: 403, token: (scope) => forge({ scope: allScopes.filter((item) => item !== scope).join(' ') }) },
      { name: 'unknown API key', status: 401, token: () => `hks_${randomBytes(32).toString('base64url')}` },
      { name: 'wrong audience', status: 401, token: () => forge({}, { aud: 'another-api' }) },
      { name: 'wrong issuer', status: 401, token: () => forge({}, { iss: 'someone-else' }) },
      { name: 'lifetime over an hour', status: 401, token: () => forge({}, { exp: now() + 7200 }) },
      { name: 'valid for a year: an iat in the future keeps exp - iat at an hour', status: 401, token: () => forge({}, { iat: now() + 365 * 86400, nbf: now(), exp: now() + 365 * 86400 + 3600 }) },
      { name: 'the platform scope in a token', status: 401, token: () => forge({ scope: [...allScopes, 'portal-sessions:create'].join(' ') }) },
      { name: 'a token for every account', status: 401, token: () => forge({ acc: null }) },
    ];
    const fill = (path: string, existing: boolean) =>
      path
        .replace('{accountId}', A)
        .replace('{webhookId}', existing ? ids.webhook : 'wh_missing')
        .replace('{eventId}', existing ? ids.eventId : 'evt_missing')
        .replace('{jobId}', existing ? ids.jobId : 'job_missing');
    const state = async () => {
      const [hooks, audit, jobs] = await Promise.all([db.collection(webhooksPath(A)).get(), db.collection(auditPath(A)).get(), db.collection(`accounts/${A}/recoverJobs`).get()]);
      const deliveries = await db.collection(`${webhookPath(A, ids.webhook)}/deliveries`).get();
      return JSON.stringify([hooks.docs.map((doc) => [doc.id, doc.updateTime?.toMillis()]), deliveries.docs.map((doc) => [doc.id, doc.updateTime?.toMillis()]), audit.size, jobs.size]);
    };
    const before = await state();
    let routes = 0;
    const failures: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (path === '/v1/openapi.json') continue;
        const scope = operation['x-hookshape-scope'];
        assert.ok(scope && operation.security?.[0]?.bearer?.[0] === scope, `${method} ${path} declares its scope`);
        routes += 1;
        for (const cell of cells) {
          const token = await cell.token(scope);
          const headers = cell.header ? { authorization: cell.header } : undefined;
          const body = method === 'get' || method === 'delete' ? undefined : {};
          const [onExisting, onMissing] = await Promise.all([true, false].map((existing) => call(base, method.toUpperCase(), fill(path, existing), { token, body, ...(headers ? { headers } : {}) })));
          const label = `${method.toUpperCase()} ${path} × ${cell.name}`;
          if (onExisting!.status !== cell.status) failures.push(`${label}: ${onExisting!.status} (expected ${cell.status}) ${onExisting!.text.slice(0, 200)}`);
          if (withoutRequestId(onExisting!) !== withoutRequestId(onMissing!)) failures.push(`${label}: the answer differs for an existing and a missing resource`);
          if (onExisting!.headers.get('content-type') !== 'application/problem+json') failures.push(`${label}: not a problem document`);
        }
      }
    }
    assert.equal(routes, Object.keys(routeTable).length, 'the matrix covers every route of the route table (routes.ts)');
    assert.deepEqual(failures, []);
    assert.equal(await state(), before, 'no refused request changed anything: webhooks, deliveries, audit trail and jobs are as they were');
  });

  it('CORS answers only configured origins', async () => {
    const allowed = await fetch(`${base}${v1('/webhooks')}`, { method: 'OPTIONS', headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    // A browser client may send an Idempotency-Key, and read whether its answer was replayed.
    const creating = await fetch(`${base}${v1('/webhooks')}`, { method: 'OPTIONS', headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' } });
    assert.match(creating.headers.get('access-control-allow-headers') ?? '', /Idempotency-Key/i);
    const exposed = await fetch(`${base}${v1('/webhooks?limit=1')}`, { headers: { origin: ALLOWED_ORIGIN, authorization: `Bearer ${tokenA}` } });
    assert.match(exposed.headers.get('access-control-expose-headers') ?? '', /Idempotent-Replayed/i);
    await exposed.text();
    const other = await fetch(`${base}${v1('/webhooks')}`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const simple = await fetch(`${base}${v1('/webhooks')}`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${tokenA}` } });
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
  });

  // --- Hostile bodies ----------------------------------------------------------------------------

  it('hostile bodies get 4xx problems naming the fields, never 5xx, and nothing is written', async () => {
    const hostile = `/v1/accounts/${HOSTILE}`;
    await db.doc(webhookPath(HOSTILE, 'wh_h')).set({ name: 'h', events: ['call.created'], url: 'https://example.com/h' });
    const etag = (await call(base, 'GET', `${hostile}/webhooks/wh_h`, { token: keys.all })).headers.get('etag')!;
    const snapshot = async () => {
      const [hooks, audit, jobs] = await Promise.all([db.collection(webhooksPath(HOSTILE)).get(), db.collection(auditPath(HOSTILE)).get(), db.collection(`accounts/${HOSTILE}/recoverJobs`).get()]);
      return JSON.stringify([hooks.docs.map((doc) => [doc.id, doc.updateTime?.toMillis(), doc.data()]), audit.size, jobs.size]);
    };
    const before = await snapshot();
    const good = { name: 'x', events: ['call.created'], url: 'https://example.com/x' };
    let deep: unknown = 'bottom';
    for (let level = 0; level < 40; level++) deep = { a: deep };
    const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const cases: Array<{ name: string; method?: string; path?: string; body?: unknown; raw?: string | Buffer; contentType?: string; status: number; fields?: string[]; headers?: Record<string, string> }> = [
      { name: 'wrong types', body: { name: 5, events: 'call.created', url: ['x'], timeoutSeconds: '10' }, status: 422, fields: ['name', 'events', 'url', 'timeoutSeconds'] },
      { name: 'an unknown event type', body: { ...good, events: ['call.created', 'call.exploded'] }, status: 422, fields: ['events[1]'] },
      { name: 'unknown fields', body: { ...good, zzz: 1, enabledd: true }, status: 422, fields: ['zzz', 'enabledd'] },
      { name: 'a huge name', body: { ...good, name: 'n'.repeat(200_000) }, status: 422, fields: ['name'] },
      { name: 'a huge url template', body: { ...good, url: `https://example.com/${'u'.repeat(200_000)}` }, status: 422, fields: ['url'] },
      { name: 'over 256 KiB', body: { ...good, body: 'b'.repeat(300_000) }, status: 413 },
      { name: 'deep nesting', body: { ...good, headers: deep }, status: 422, fields: ['headers.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a'] },
      { name: '100 000 nested arrays', path: `${hostile}/webhooks/wh_h/preview`, raw: `{"data":{"x":${deepArray}}}`, status: 422 },
      { name: '__proto__ at the top', raw: `{"__proto__":{"enabled":false},"name":"x","events":["call.created"],"url":"https://example.com/x"}`, status: 422, fields: ['__proto__'] },
      { name: '__proto__ in a map', raw: `{"name":"x","events":["call.created"],"url":"https://example.com/x","headers":{"__proto__":"x"}}`, status: 422, fields: ['headers.__proto__'] },
      { name: 'constructor in event data', path: `${hostile}/webhooks/wh_h/preview`, body: { data: { constructor: { prototype: 1 } } }, status: 422, fields: ['data.constructor'] },
      { name: 'a draft preview of something not a document', path: `${hostile}/webhooks/preview`, body: { webhook: 'x', eventType: 'call.exploded' }, status: 422, fields: ['webhook', 'eventType'] },
      { name: 'a draft preview without its draft', path: `${hostile}/webhooks/preview`, body: { data: {} }, status: 422, fields: ['webhook'] },
      { name: 'an undefined filter', body: { ...good, body: '{"a": {{ data.x | jsn }}}' }, status: 422, fields: ['body'] },
      { name: 'an unclosed tag', body: { ...good, body: '{% if data.x %}' }, status: 422, fields: ['body'] },
      { name: 'a host from event data', body: { ...good, url: 'https://{{ data.host }}/x' }, status: 422, fields: ['url'] },
      { name: 'the metadata server', body: { ...good, url: 'http://metadata.google.internal/computeMetadata/v1/' }, status: 422, fields: ['url'] },
      { name: 'a reserved header', body: { ...good, headers: { 'Content-Length': '1' } }, status: 422, fields: ['headers.Content-Length'] },
      { name: 'an array, not an object', body: [good], status: 422 },
      { name: 'not JSON', raw: 'name=x', contentType: 'application/x-www-form-urlencoded', status: 415 },
      { name: 'not UTF-8', method: 'PATCH', path: `${hostile}/webhooks/wh_h`, raw: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), contentType: 'application/merge-patch+json', headers: { 'if-match': etag }, status: 400 },
      { name: 'a patch out of range', method: 'PATCH', path: `${hostile}/webhooks/wh_h`, body: { timeoutSeconds: 99 }, headers: { 'if-match': etag }, status: 422, fields: ['timeoutSeconds'] },
      { name: 'a patch that removes a required field', method: 'PATCH', path: `${hostile}/webhooks/wh_h`, body: { url: null }, headers: { 'if-match': etag }, status: 422, fields: ['url'] },
      { name: 'a replace of the wrong type', method: 'PUT', path: `${hostile}/webhooks/wh_h`, body: { ...good, query: { a: 1 } }, headers: { 'if-match': etag }, status: 422, fields: ['query.a'] },
      { name: 'a test of an event it does not take', path: `${hostile}/webhooks/wh_h/test`, body: { eventType: 'user.created' }, status: 422, fields: ['eventType'] },
      { name: 'a recover without since', path: `${hostile}/recover-jobs`, body: { limit: 5000 }, status: 422, fields: ['since', 'limit'] },
      { name: 'a session longer than an hour', path: `${hostile}/portal-sessions`, body: { expiresInSeconds: 7200, scopes: ['admin'] }, status: 422, fields: ['scopes[0]', 'expiresInSeconds'] },
      { name: 'a page too large', method: 'GET', path: `${hostile}/deliveries?limit=100000&status=lost`, status: 400, fields: ['status', 'limit'] },
      { name: 'an id that is not one', body: { ...good, id: '../../x' }, status: 422, fields: ['id'] },
    ];
    const failures: string[] = [];
    for (const test of cases) {
      const answer = await call(base, test.method ?? 'POST', test.path ?? `${hostile}/webhooks`, { token: keys.all, ...(test.raw !== undefined ? { rawBody: test.raw } : test.body !== undefined ? { body: test.body } : {}), ...(test.contentType ? { contentType: test.contentType } : {}), ...(test.headers ? { headers: test.headers } : {}) });
      if (answer.status !== test.status) failures.push(`${test.name}: ${answer.status}, expected ${test.status}: ${answer.text.slice(0, 300)}`);
      if (answer.headers.get('content-type') !== 'application/problem+json') failures.push(`${test.name}: not a problem document`);
      const fields = ((answer.json?.errors ?? []) as Array<{ field: string }>).map((error) => error.field);
      for (const field of test.fields ?? []) if (!fields.includes(field)) failures.push(`${test.name}: no error for ${field} (got ${fields.join(', ') || 'none'}: ${answer.json?.detail})`);
    }
    assert.deepEqual(failures, []);
    assert.equal(await snapshot(), before, 'nothing was written');
    assert.doesNotMatch(api.output(), /"severity":"ERROR"/, 'no request failed inside the API');
  });

  // --- The bundle ----------------------------------------------------------------------------------

  it("the other functions do not load the API's libraries, and the deployed code reads no HOOKSHAPE_DEV_API_KEY", () => {
    const { outputs } = JSON.parse(readFileSync(BUILD_METAFILE, 'utf8')) as { outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string; external?: boolean }> }> };
    const entry = Object.keys(outputs).find((name) => outputs[name]!.entryPoint?.endsWith('functions/src/index.ts'))!;
    const atStart = new Set<string>();
    const visit = (name: string) => {
      if (atStart.has(name)) return;
      atStart.add(name);
      for (const imported of outputs[name]!.imports) if (!imported.external && imported.kind === 'import-statement') visit(imported.path);
    };
    visit(entry);
    const packages = new Set([...atStart].flatMap((name) => Object.keys(outputs[name]!.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1])));
    for (const lazy of ['hono', '@hono/zod-openapi', '@asteasolutions/zod-to-openapi', 'jose']) assert.ok(!packages.has(lazy), `${lazy} is not loaded at start`);
    for (const name of readdirSync(BUILD_DIR).filter((file) => file.endsWith('.js'))) {
      assert.ok(!readFileSync(join(BUILD_DIR, name), 'utf8').includes('HOOKSHAPE_DEV_API_KEY'), `${name} mentions HOOKSHAPE_DEV_API_KEY`);
    }
  });

  it('every Firestore query the API ran in this suite is declared in INDEXED_QUERIES (whose composite indexes Terraform declares)', () => {
    const shapes = new Map<string, QueryShape>();
    for (const line of api.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: { message?: string; queryShape?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.message === QUERY_LOG_MESSAGE && entry.queryShape) shapes.set(entry.queryShape, JSON.parse(entry.queryShape) as QueryShape);
    }
    assert.ok(shapes.size >= 8, `the suite ran the API's queries (${shapes.size} shapes seen)`);
    const undeclared = [...shapes.values()].filter((shape) => !INDEXED_QUERIES.some((declared) => servedBy(shape, declared)));
    assert.deepEqual(undeclared, [], 'queries the API ran that firestore-layout.ts does not declare (add an IndexedQuery, and its google_firestore_index when it needs one)');
  });
});
