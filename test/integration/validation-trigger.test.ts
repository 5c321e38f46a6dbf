import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { firestoreWrittenRequest } from '../../functions/dev/firestore-trigger-event.ts';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { fromFirestore, webhookPath, type StoredValidation } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// validateWebhook from build/functions under the functions framework (the harness's process), called as
// Eventarc calls it for a Firestore document.written event: a binary-mode CloudEvent (ce-* headers) whose
// body is the protobuf DocumentEventData, which the function does not decode.
let h: Harness;
let receiver: Receiver;

before(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver()]);
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

const ACCOUNT = 'acc_v';

/** What Eventarc sends: headers carry the context, the body is protobuf (here: bytes shaped like it). */
async function trigger(accountId: string, webhookId: string, options: { subject?: boolean } = {}): Promise<number> {
  const response = await fetch(h.validateUrl, firestoreWrittenRequest(h.projectId, webhookPath(accountId, webhookId), options));
  await response.text();
  return response.status;
}

async function read(webhookId: string) {
  const snapshot = await h.db.doc(webhookPath(ACCOUNT, webhookId)).get();
  return { exists: snapshot.exists, updateTime: snapshot.updateTime?.toMillis(), updateTimeExact: snapshot.updateTime ? `${snapshot.updateTime.seconds}.${snapshot.updateTime.nanoseconds}` : undefined, validation: fromFirestore<StoredValidation | undefined>(snapshot.get('validation')), data: snapshot.data() };
}

const BROKEN_BODY = '{\n  "call": "{{ data.call.id }}",\n  "tags": {{ data.tags | jsn }}\n}';
const FIXED_BODY = '{\n  "call": "{{ data.call.id }}",\n  "tags": {{ data.tags | json }}\n}';
const webhookDoc = (id: string, body: string) => ({ name: id, events: ['call.created'], url: `${receiver.url}/${id}`, body });

describe('validateWebhook: Firestore trigger writing the validation into the document', () => {
  it('a broken template gets a precise error in the document: field, line, column, message', async () => {
    await h.setWebhook(ACCOUNT, 'broken', webhookDoc('broken', BROKEN_BODY));
    assert.equal(await trigger(ACCOUNT, 'broken'), 204);
    const { validation } = await read('broken');
    assert.ok(validation, 'validation written');
    assert.equal(validation.ok, false);
    assert.equal(validation.errors.length, 1, JSON.stringify(validation.errors));
    const [error] = validation.errors;
    assert.equal(error?.field, 'body');
    assert.equal(error?.line, 3);
    assert.equal(error?.column, 11);
    assert.match(error?.message ?? '', /^body: template error at line 3, column 11: undefined filter 'jsn'/);
    assert.ok(validation.checkedAt instanceof Date);
    assert.match(validation.configHash, /^[0-9a-f]{32}$/);
    // The function's own log line (its stdout), read as Cloud Logging would.
    await h.waitForLog((entry) => entry.function === 'validateWebhook' && entry.severity === 'WARNING' && entry.message === `webhook broken validation failed: ${error?.message}`);
  });

  it('fixing the template clears the error', async () => {
    await h.setWebhook(ACCOUNT, 'fixme', webhookDoc('fixme', BROKEN_BODY));
    await trigger(ACCOUNT, 'fixme');
    assert.equal((await read('fixme')).validation?.ok, false);
    await h.db.doc(webhookPath(ACCOUNT, 'fixme')).update({ body: FIXED_BODY });
    await trigger(ACCOUNT, 'fixme');
    const { validation } = await read('fixme');
    assert.equal(validation?.ok, true);
    assert.deepEqual(validation?.errors, []);
  });

  it('no self-trigger loop: the event of its own write finds the same configuration and writes nothing', async () => {
    await h.setWebhook(ACCOUNT, 'loop', webhookDoc('loop', BROKEN_BODY));
    await trigger(ACCOUNT, 'loop'); // the editor's write
    const afterFirst = await read('loop');
    assert.ok(afterFirst.validation);
    for (let i = 0; i < 3; i++) assert.equal(await trigger(ACCOUNT, 'loop'), 204); // the events of its own write (and duplicates)
    const afterMore = await read('loop');
    assert.equal(afterMore.updateTimeExact, afterFirst.updateTimeExact, 'updateTime unchanged: no write');
    // Fields hookshape writes (health, enabled, disabled) do not make the validation stale either.
    await h.db.doc(webhookPath(ACCOUNT, 'loop')).update({ 'health.consecutiveFailures': 3, enabled: false });
    const touched = await read('loop');
    await trigger(ACCOUNT, 'loop');
    assert.equal((await read('loop')).updateTimeExact, touched.updateTimeExact);
  });

  for (const { format, body } of [
    { format: 'yaml', body: 'call: {{ data.call.id }}\ncustomer: {{ data.customer.name }}' },
    { format: 'xml', body: '<call id="{{ data.call.id }}"><customer>{{ data.customer.name }}</customer></call>' },
  ]) {
    it(`a valid ${format} body validates ok (the ${format} parser loads in the function)`, async () => {
      await h.setWebhook(ACCOUNT, `valid-${format}`, { name: format, events: ['call.created'], url: `${receiver.url}/${format}`, format, body });
      assert.equal(await trigger(ACCOUNT, `valid-${format}`), 204);
      const { validation } = await read(`valid-${format}`);
      assert.equal(validation?.ok, true, JSON.stringify(validation?.errors));
    });
  }

  it('takes the path from the document attribute when the subject is missing', async () => {
    await h.setWebhook(ACCOUNT, 'nosubject', webhookDoc('nosubject', FIXED_BODY));
    assert.equal(await trigger(ACCOUNT, 'nosubject', { subject: false }), 204);
    assert.equal((await read('nosubject')).validation?.ok, true);
  });

  it('a deleted document: nothing to do, nothing created', async () => {
    assert.equal(await trigger(ACCOUNT, 'never-existed'), 204);
    assert.equal((await read('never-existed')).exists, false);
  });

  it('an internal host fails validation naming the field; localhost is valid where loopback destinations are allowed', async () => {
    // Their own account: the dispatcher tests below publish events to ACCOUNT.
    const account = 'acc_v_hosts';
    const readIn = async (webhookId: string) => fromFirestore<StoredValidation | undefined>((await h.db.doc(webhookPath(account, webhookId)).get()).get('validation'));
    await h.setWebhook(account, 'metadata', { name: 'metadata', events: ['call.created'], url: `${receiver.url}/ok`, backupUrl: 'http://Metadata.Google.Internal./computeMetadata/v1/' });
    assert.equal(await trigger(account, 'metadata'), 204);
    const refused = await readIn('metadata');
    assert.equal(refused?.ok, false);
    assert.deepEqual(refused?.errors.map((error) => [error.field, error.message]), [
      ['backupUrl', "backupUrl: the host metadata.google.internal is the name of Google Cloud's metadata server, which hands out the function's credentials; hookshape never calls internal host names (deliveries would be refused)"],
    ]);
    // The harness runs with ALLOW_LOOPBACK_DESTINATIONS=true, as the local stack does: the sender calls localhost, so validation accepts it.
    await h.setWebhook(account, 'local', { name: 'local', events: ['call.created'], url: 'http://localhost:8080/hook' });
    await trigger(account, 'local');
    assert.deepEqual((await readIn('local'))?.errors, []);
  });

  it('validates backupUrl and every subscribed event, with the event type that failed', async () => {
    await h.setWebhook(ACCOUNT, 'multi', {
      name: 'multi',
      events: ['call.created', 'queue.created'],
      url: `${receiver.url}/multi`,
      backupUrl: 'ftp://backup.example.com/{{ data.call.id }}',
      body: '{"duration": {{ data.call.durationSeconds }}}',
    });
    await trigger(ACCOUNT, 'multi');
    const { validation } = await read('multi');
    assert.equal(validation?.ok, false);
    const byField = Object.fromEntries((validation?.errors ?? []).map((error) => [`${error.field}/${error.eventType}`, error.message]));
    assert.match(byField['backupUrl/call.created'] ?? '', /only http and https are allowed/);
    // queue.created has no data.call: the body renders "duration": } and does not parse.
    assert.match(byField['body/queue.created'] ?? '', /not valid JSON.*\(rendering the queue.created sample\)$/);
    assert.ok(validation?.warnings.some((warning) => warning.message.includes('data.call.durationSeconds is not a variable of queue.created')));
  });
});

describe('the dispatcher and the stored validation', () => {
  it('skips a webhook whose validation failed, logs why, writes no delivery; delivers once the document is fixed', async () => {
    await h.setWebhook(ACCOUNT, 'gate', webhookDoc('gate', BROKEN_BODY));
    await trigger(ACCOUNT, 'gate');
    const skippedEvent = eventOf('call.created', ACCOUNT, { call: { id: 'c1' }, tags: ['a'] });
    await h.publish(skippedEvent);
    const deadline = Date.now() + 15_000;
    let line: string | undefined;
    while (!line && Date.now() < deadline) {
      line = h.logs.find((entry) => entry.eventId === skippedEvent.id && entry.webhookId === 'gate' && /skipped/.test(entry.message))?.message;
      if (!line) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(line, "webhook gate skipped: its last validation failed: body: template error at line 3, column 11: undefined filter 'jsn'");
    assert.equal(await h.delivery(ACCOUNT, 'gate', skippedEvent.id), undefined, 'no delivery record');
    assert.equal(receiver.requests.filter((request) => request.url === '/gate').length, 0);

    // Fixed in the console: the stored validation is now about an older configuration, so the webhook
    // is not skipped while its new validation is pending.
    await h.db.doc(webhookPath(ACCOUNT, 'gate')).update({ body: FIXED_BODY });
    const event = eventOf('call.created', ACCOUNT, { call: { id: 'c2' }, tags: ['a', 'b'] });
    await h.publish(event);
    const record = await h.waitForDelivery(ACCOUNT, 'gate', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.deepEqual(JSON.parse(receiver.requests.find((request) => request.url === '/gate')!.body), { call: 'c2', tags: ['a', 'b'] });
  });
});
