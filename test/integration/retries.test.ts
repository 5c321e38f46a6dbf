import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cloudTasksEmulatorClient } from '../../functions/dev/emulator-wiring.ts';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { retryTaskId, webhookPath } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { until } from '../support/until.ts';

// The functions of build/functions (the harness's processes). Base delay 1 s (the harness sets
// RETRY_BASE_DELAY_SECONDS=1): retries wait 1, 2, 3 s.
let h: Harness;
let primary: Receiver;
let backup: Receiver;

before(async () => {
  [h, primary, backup] = await Promise.all([startHarness(), startReceiver(), startReceiver()]);
});
after(async () => {
  await Promise.all([h.close(), primary.close(), backup.close()]);
});

/** Per-path scripted statuses, so tests running side by side do not consume each other's. */
function script(receiver: Receiver, path: string, ...statuses: Array<number | 'hang' | 'reset'>) {
  const queue = [...statuses];
  const previous = scripts.get(receiver) ?? new Map();
  previous.set(path, queue);
  scripts.set(receiver, previous);
  receiver.respond((request, res) => {
    const next = scripts.get(receiver)?.get(request.url.split('?')[0]!)?.shift() ?? 200;
    if (next === 'hang') return;
    if (next === 'reset') return void res.socket?.destroy();
    res.statusCode = next;
    if (next === 429 && request.url.includes('retry-after')) res.setHeader('Retry-After', '3');
    res.end(`status ${next}`);
  });
}
const scripts = new Map<Receiver, Map<string, Array<number | 'hang' | 'reset'>>>();

// A receiver's timeout of 10 s: each event fans out to every webhook made before it, and a busy machine
// stalled for a second turned answered attempts into timeouts (the scripted status then went to the next).
// Only the test of a hanging receiver shortens it.
async function webhook(id: string, fields: Record<string, unknown> = {}) {
  await h.setWebhook('acc_r', id, { name: id, events: ['call.created'], url: `${primary.url}/${id}`, timeoutSeconds: 10, ...fields });
  const event = eventOf('call.created', 'acc_r', { n: 1 });
  await h.publish(event);
  return event;
}

const requestsTo = (receiver: Receiver, id: string) => receiver.requests.filter((r) => r.url.startsWith(`/${id}`));

describe('delayed retries through Cloud Tasks', () => {
  it('500, 500, 200: succeeded on attempt 3, the waits growing', async () => {
    script(primary, '/r500', 500, 500, 200);
    const event = await webhook('r500');
    const record = await h.waitForDelivery('acc_r', 'r500', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.deepEqual(record.attempts.map((a) => [a.number, a.target, a.response?.status]), [[1, 'primary', 500], [2, 'primary', 500], [3, 'primary', 200]]);
    const [a, b, c] = requestsTo(primary, 'r500').map((r) => r.at);
    const firstWait = b! - a!;
    const secondWait = c! - b!;
    assert.ok(firstWait >= 900, `first wait ${firstWait} ms ≥ 1 s`);
    assert.ok(secondWait >= 1900, `second wait ${secondWait} ms ≥ 2 s`);
    assert.ok(secondWait > firstWait, 'waits grow');
    assert.equal(record.nextAttemptAt, null);
    assert.equal(record.lastError, null);
  });

  it('503 four times: failed after exactly 4 attempts', async () => {
    script(primary, '/r503', 503, 503, 503, 503, 200);
    const event = await webhook('r503');
    const retrying = await h.waitForDelivery('acc_r', 'r503', event.id, (r) => r.attempts.length === 1);
    assert.equal(retrying.status, 'retrying');
    assert.ok(retrying.nextAttemptAt instanceof Date);
    const record = await h.waitForDelivery('acc_r', 'r503', event.id);
    assert.equal(record.status, 'failed');
    assert.equal(record.attempts.length, 4);
    assert.equal(record.lastError, 'HTTP 503');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(requestsTo(primary, 'r503').length, 4);
  });

  it('503 four times with a backup: the backup gets the same body and headers, succeeded, targets recorded', async () => {
    script(primary, '/rbackup', 503, 503, 503, 503);
    const event = await webhook('rbackup', {
      backupUrl: `${backup.url}/rbackup`,
      headers: { 'X-Event': '{{ event.id }}' },
      body: '{"event": "{{ event.id }}", "n": {{ data.n }}}',
    });
    const record = await h.waitForDelivery('acc_r', 'rbackup', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.deepEqual(record.attempts.map((a) => a.target), ['primary', 'primary', 'primary', 'primary', 'backup']);
    assert.deepEqual(record.attempts.map((a) => a.attemptOfTarget), [1, 2, 3, 4, 1]);
    const [sentToPrimary] = requestsTo(primary, 'rbackup');
    const [sentToBackup] = requestsTo(backup, 'rbackup');
    assert.ok(sentToPrimary && sentToBackup);
    assert.equal(sentToBackup.body, sentToPrimary.body);
    for (const name of ['x-event', 'content-type', 'user-agent', 'x-powered-by', 'x-requested-with']) assert.equal(sentToBackup.headers[name], sentToPrimary.headers[name], name);
  });

  it('a 4xx on the primary goes to the backup at once', async () => {
    script(primary, '/r4xxbackup', 404);
    const event = await webhook('r4xxbackup', { backupUrl: `${backup.url}/r4xxbackup` });
    const record = await h.waitForDelivery('acc_r', 'r4xxbackup', event.id);
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.attempts.map((a) => [a.target, a.response?.status]), [['primary', 404], ['backup', 200]]);
  });

  for (const status of [404, 400]) {
    it(`${status}: exactly one attempt`, async () => {
      script(primary, `/r${status}`, status);
      const event = await webhook(`r${status}`);
      const record = await h.waitForDelivery('acc_r', `r${status}`, event.id);
      assert.equal(record.status, 'failed');
      assert.equal(record.attempts.length, 1);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal(requestsTo(primary, `r${status}`).length, 1);
    });
  }

  it('429 without Retry-After follows the schedule', async () => {
    script(primary, '/r429', 429, 200);
    const event = await webhook('r429');
    const record = await h.waitForDelivery('acc_r', 'r429', event.id);
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.attempts.map((a) => a.response?.status), [429, 200]);
  });

  it('429 with a longer Retry-After waits that long', async () => {
    script(primary, '/r429ra', 429, 200);
    await h.setWebhook('acc_r', 'r429ra', { name: 'r429ra', events: ['call.created'], url: `${primary.url}/r429ra?retry-after=1` });
    const event = eventOf('call.created', 'acc_r');
    await h.publish(event);
    const retrying = await h.waitForDelivery('acc_r', 'r429ra', event.id, (r) => r.attempts.length === 1);
    const asked = retrying.nextAttemptAt!.getTime() - retrying.attempts[0]!.startedAt.getTime();
    assert.ok(asked >= 2900, `next attempt ${asked} ms later honours Retry-After: 3`);
    const record = await h.waitForDelivery('acc_r', 'r429ra', event.id);
    assert.equal(record.status, 'succeeded');
    const [first, second] = requestsTo(primary, 'r429ra').map((r) => r.at);
    assert.ok(second! - first! >= 2900, `waited ${second! - first!} ms`);
  });

  it('a receiver that hangs past the timeout, then one that resets: retried', async () => {
    script(primary, '/rflaky', 'hang', 'reset', 200);
    const event = await webhook('rflaky', { timeoutSeconds: 3 });
    const record = await h.waitForDelivery('acc_r', 'rflaky', event.id);
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.attempts.map((a) => a.error?.code ?? a.response?.status), ['ETIMEDOUT', 'ECONNRESET', 200]);
  });
});

describe('the worker reloads the webhook before each retry', () => {
  it('a webhook deleted while a retry waits ends the delivery as failed, without another request', async () => {
    script(primary, '/rdeleted', 500, 200);
    // Attempt 2 is due 4 s after attempt 1: time enough to delete the webhook first on a loaded machine.
    const event = await webhook('rdeleted', { retry: { delaysSeconds: [4] } });
    await h.waitForDelivery('acc_r', 'rdeleted', event.id, (r) => r.status === 'retrying');
    await h.db.doc(webhookPath('acc_r', 'rdeleted')).delete();
    const record = await h.waitForDelivery('acc_r', 'rdeleted', event.id);
    assert.equal(record.status, 'failed');
    assert.match(record.lastError ?? '', /webhook rdeleted was deleted before attempt 2/);
    assert.equal(record.attempts.length, 1);
    assert.equal(requestsTo(primary, 'rdeleted').length, 1);
  });
});

describe('no duplicate, no loss', () => {
  it('the same task dispatched twice sends once per attempt', async () => {
    script(primary, '/rdup', 500, 200);
    const event = await webhook('rdup');
    const retrying = await h.waitForDelivery('acc_r', 'rdup', event.id, (r) => r.status === 'retrying');
    const task = { accountId: 'acc_r', webhookId: 'rdup', eventId: event.id, attempt: 2 };
    const headers = { 'Content-Type': 'application/json', 'X-CloudTasks-QueueName': 'hookshape-retries', 'X-CloudTasks-TaskName': retryTaskId(task) };
    // Cloud Tasks may deliver a task more than once: run it by hand twice, at once, before its time.
    const answers = await Promise.all([1, 2].map(() => fetch(h.workerUrl, { method: 'POST', headers, body: JSON.stringify(task) })));
    assert.ok(answers.some((answer) => answer.status === 200));
    const record = await h.waitForDelivery('acc_r', 'rdup', event.id);
    assert.equal(record.status, 'succeeded');
    assert.ok(retrying.attempts.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the scheduled copy of the task comes too
    assert.equal(requestsTo(primary, 'rdup').length, 2, 'one request per recorded attempt');
    assert.equal((await h.delivery('acc_r', 'rdup', event.id))?.attempts.length, 2);
  });

  it('enqueuing the same attempt twice creates one task', async () => {
    // An earlier instance enqueued attempt 2 and died before acknowledging the event: the task exists
    // (made here as the scheduler makes it, due in 4 s) when the redelivered event enqueues it again.
    script(primary, '/rtwice', 500, 200);
    await h.setWebhook('acc_r', 'rtwice', { name: 'rtwice', events: ['call.created'], url: `${primary.url}/rtwice`, timeoutSeconds: 10 });
    const event = eventOf('call.created', 'acc_r', { n: 1 });
    const task = { accountId: 'acc_r', webhookId: 'rtwice', eventId: event.id, attempt: 2 };
    const client = cloudTasksEmulatorClient(h.tasks.address);
    const parent = client.queuePath(h.projectId, 'us-central1', 'hookshape-retries');
    const name = `${parent}/tasks/${retryTaskId(task)}`;
    const dueAt = Date.now() + 4000;
    try {
      await client.createTask({ parent, task: { name, scheduleTime: { seconds: Math.ceil(dueAt / 1000) }, httpRequest: { httpMethod: 'POST', url: h.workerUrl, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify(task)) } } });
    } finally {
      await client.close();
    }
    await h.publish(event);
    const record = await h.waitForDelivery('acc_r', 'rtwice', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.deepEqual(record.attempts.map((a) => a.response?.status), [500, 200]);
    const [, second] = requestsTo(primary, 'rtwice');
    // The dispatcher's own enqueue (due 1 s after attempt 1) made no second task: attempt 2 came from the first one.
    assert.ok(second && second.at >= Math.ceil(dueAt / 1000) * 1000 - 50, `attempt 2 came ${second ? Math.ceil(dueAt / 1000) * 1000 - second.at : '?'} ms before the existing task was due`);
    // The emulator records a dispatch when the worker's answer arrives, which is after the worker committed the record.
    const dispatchesOfTask = () => h.tasks.dispatched.filter((entry) => entry.taskName === name).map((entry) => entry.status);
    await until('the existing task\'s dispatch', () => (dispatchesOfTask().length > 0 ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(dispatchesOfTask(), [200]);
    assert.equal(requestsTo(primary, 'rtwice').length, 2);
    assert.ok(!h.logs.some((entry) => entry.eventId === event.id && entry.severity === 'ERROR'), 'ALREADY_EXISTS is success: no error, no redelivery');
  });

  it('the worker refuses calls that do not come from the retry queue', async () => {
    const task = { accountId: 'acc_r', webhookId: 'x', eventId: 'evt_x', attempt: 2 };
    const answer = await fetch(h.workerUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(task) });
    assert.equal(answer.status, 403);
  });

  it('enqueue failure (Cloud Tasks down): Pub/Sub redelivers and the event ends delivered once it is back', async () => {
    script(primary, '/rdown', 500, 200);
    await h.stopTasks();
    let restarted = false;
    try {
      const event = await webhook('rdown');
      const retrying = await h.waitForDelivery('acc_r', 'rdown', event.id, (r) => r.status === 'retrying');
      assert.equal(retrying.attempts.length, 1);
      // The dispatcher failed to enqueue and threw: wait for Pub/Sub to redeliver at least once.
      const deadline = Date.now() + 20_000;
      while (!h.logs.some((entry) => entry.eventId === event.id && /interrupted/.test(entry.message)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(h.logs.some((entry) => entry.eventId === event.id && entry.severity === 'ERROR'), 'the failed enqueue was logged as an error');
      await h.restartTasks();
      restarted = true;
      const record = await h.waitForDelivery('acc_r', 'rdown', event.id, undefined, 60_000);
      assert.equal(record.status, 'succeeded');
      assert.deepEqual(record.attempts.map((a) => [a.number, a.response?.status ?? a.summary]), [[1, 500], [2, 200]]);
      assert.equal(requestsTo(primary, 'rdown').length, 2);
    } finally {
      if (!restarted) await h.restartTasks();
    }
  });
});
