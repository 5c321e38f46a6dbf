import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { DESTINATION_REFUSED } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// The whole pipeline (the bundle's functions) with a resolver preloaded into them that answers every
// name with the receiver's address and notes it (the harness allows loopback, as the local stack does):
// a webhook aimed at an internal name would be delivered if the name were ever looked up. It must
// instead end `failed` on its first attempt, with the reason, no DNS query, no request, no retry task.
const spyDir = mkdtempSync(join(tmpdir(), 'hookshape-dns-'));
const spyLog = join(spyDir, 'lookups.txt');
const asked = (): string[] => (existsSync(spyLog) ? readFileSync(spyLog, 'utf8').split('\n').filter(Boolean) : []);

// One account per test: an event reaches every webhook of its account that subscribes to its type.
const accountOf = (webhookId: string) => `acc_hosts_${webhookId}`;
let h: Harness;
let receiver: Receiver;
let port: number;

before(async () => {
  receiver = await startReceiver();
  port = Number(new URL(receiver.url).port);
  const dir = mkdtempSync(join(tmpdir(), 'hookshape-hosts-'));
  const file = join(dir, 'secrets.json');
  writeFileSync(file, JSON.stringify({ [accountOf('secret-base')]: { BASE_URL: `http://metadata.google.internal.:${port}` } }));
  const spy = join(import.meta.dirname, '..', 'support', 'dns-spy.ts');
  h = await startHarness({ env: { LOCAL_SECRETS_FILE: file, NODE_OPTIONS: `--import=${spy}`, DNS_SPY_LOG: spyLog } });
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

/** Every retry task the harness's queue ever held (none of these deliveries may schedule one). */
const retryTasks = () => [...h.tasks.state.tasks.keys(), ...h.tasks.state.tombstones.keys(), ...h.tasks.dispatched.map((entry) => entry.taskName)];

describe('internal host names in the pipeline', () => {
  it('http://metadata.google.internal/ is failed on the first attempt: the reason recorded, no DNS query, no request, no retry', async () => {
    const account = accountOf('metadata');
    await h.setWebhook(account, 'metadata', { name: 'metadata', events: ['call.created'], url: `http://metadata.google.internal:${port}/computeMetadata/v1/instance/service-accounts/default/token` });
    const event = eventOf('call.created', account);
    await h.publish(event);
    const record = await h.waitForDelivery(account, 'metadata', event.id);
    assert.equal(record.status, 'failed');
    assert.equal(record.attempts.length, 1);
    assert.equal(record.nextAttemptAt, null);
    assert.equal(record.attempts[0]?.error?.code, DESTINATION_REFUSED);
    assert.equal(record.attempts[0]?.outcome, 'failed');
    assert.match(record.lastError ?? '', /^destination refused: metadata\.google\.internal is the name of Google Cloud's metadata server.*never looked up or called$/);
    // Given time to misbehave: a retry would have been scheduled with the write.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await h.delivery(account, 'metadata', event.id))?.attempts.length, 1);
    assert.deepEqual(retryTasks(), []);
    assert.deepEqual(asked(), []);
    assert.equal(receiver.requests.length, 0);
  });

  it('a rendered URL that turns out internal (a base URL kept in a secret) is blocked at send', async () => {
    const account = accountOf('secret-base');
    await h.setWebhook(account, 'secret-base', { name: 'secret-base', events: ['call.created'], url: '{{ secrets.BASE_URL | raw }}/computeMetadata/v1/' });
    const event = eventOf('call.created', account);
    await h.publish(event);
    const record = await h.waitForDelivery(account, 'secret-base', event.id);
    assert.equal(record.status, 'failed');
    assert.equal(record.attempts.length, 1);
    assert.equal(record.attempts[0]?.error?.code, DESTINATION_REFUSED);
    assert.match(record.lastError ?? '', /metadata\.google\.internal is the name of Google Cloud's metadata server/);
    assert.deepEqual(asked(), []);
    assert.equal(receiver.requests.length, 0);
  });

  it('an internal primary goes straight to the backup URL, which is delivered', async () => {
    const account = accountOf('to-backup');
    await h.setWebhook(account, 'to-backup', { name: 'to-backup', events: ['call.created'], url: `http://metadata:${port}/x`, backupUrl: `${receiver.url}/backup` });
    const event = eventOf('call.created', account);
    await h.publish(event);
    const record = await h.waitForDelivery(account, 'to-backup', event.id);
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.attempts.map((a) => [a.target, a.outcome, a.error?.code ?? a.response?.status]), [['primary', 'failed', DESTINATION_REFUSED], ['backup', 'succeeded', 200]]);
    assert.match(record.attempts[0]?.summary ?? '', /metadata is the name of Google Cloud's metadata server/);
    assert.deepEqual(asked(), []);
    assert.deepEqual(receiver.requests.map((r) => r.url), ['/backup']);
    receiver.requests.length = 0;
  });

  it('an internal backup URL is blocked too: the delivery fails after one attempt per target, no retry', async () => {
    const account = accountOf('bad-backup');
    receiver.statuses(404);
    await h.setWebhook(account, 'bad-backup', { name: 'bad-backup', events: ['call.created'], url: `${receiver.url}/primary`, backupUrl: `http://vm-1.c.my-project.internal.:${port}/x` });
    const event = eventOf('call.created', account);
    await h.publish(event);
    const record = await h.waitForDelivery(account, 'bad-backup', event.id);
    assert.equal(record.status, 'failed');
    assert.deepEqual(record.attempts.map((a) => [a.target, a.error?.code ?? a.response?.status]), [['primary', 404], ['backup', DESTINATION_REFUSED]]);
    assert.match(record.lastError ?? '', /vm-1\.c\.my-project\.internal is under \.internal/);
    assert.deepEqual(retryTasks(), []);
    assert.deepEqual(asked(), []);
    assert.deepEqual(receiver.requests.map((r) => r.url), ['/primary']);
    receiver.requests.length = 0;
  });
});
