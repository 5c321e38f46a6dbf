import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { deliveryPath, FirestoreWebhookStore, fromFirestore, UNCOUNTED_READ_PAST, webhookPath } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// AUTO_DISABLE_AFTER_FAILURES=2: the second consecutive delivery that ends `failed` disables the webhook.
let h: Harness;
let receiver: Receiver;
const scripts = new Map<string, number[]>();

before(async () => {
  [h, receiver] = await Promise.all([startHarness({ env: { AUTO_DISABLE_AFTER_FAILURES: '2' } }), startReceiver()]);
  receiver.respond((request, res) => {
    res.statusCode = scripts.get(request.url.split('?')[0]!)?.shift() ?? 200;
    res.end(`status ${res.statusCode}`);
  });
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

const ACCOUNT = 'acc_ad';

interface WebhookState {
  enabled?: boolean;
  disabled?: { reason: string; at: Date; consecutiveFailures: number };
  health?: { consecutiveFailures: number; lastFailureAt?: Date };
}

async function state(id: string): Promise<WebhookState> {
  return fromFirestore<WebhookState>((await h.db.doc(webhookPath(ACCOUNT, id)).get()).data());
}

/** The count is written just after the delivery record: wait for it. */
async function stateWhen(id: string, until: (value: WebhookState) => boolean): Promise<WebhookState> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await state(id);
    if (until(value)) return value;
    if (Date.now() > deadline) assert.fail(`webhook ${id} did not reach the expected state: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const failures = (n: number) => (value: WebhookState) => value.health?.consecutiveFailures === n;

async function createWebhook(id: string, statuses: number[], fields: Record<string, unknown> = {}) {
  scripts.set(`/${id}`, [...statuses]);
  await h.setWebhook(ACCOUNT, id, { name: id, events: ['call.created'], url: `${receiver.url}/${id}`, timeoutSeconds: 10, ...fields });
}

/** Publishes one event and waits for its final status. */
async function deliver(id: string, data: Record<string, unknown> = { n: 1 }) {
  const event = eventOf('call.created', ACCOUNT, data);
  await h.publish(event);
  return h.waitForDelivery(ACCOUNT, id, event.id, undefined, 40_000);
}

describe('auto-disable after consecutive failed deliveries', () => {
  it('two deliveries failing for good (404) disable the webhook, with the reason and time in its document', async () => {
    await createWebhook('dead', [404, 404, 404]);
    const first = await deliver('dead');
    assert.equal(first.status, 'failed');
    const afterOne = await stateWhen('dead', failures(1));
    assert.notEqual(afterOne.enabled, false);

    const before = Date.now();
    const second = await deliver('dead');
    assert.equal(second.status, 'failed');
    const disabled = await stateWhen('dead', (value) => value.enabled === false);
    assert.equal(disabled.disabled?.consecutiveFailures, 2);
    assert.equal(disabled.disabled?.reason, `disabled automatically after 2 consecutive failed deliveries; the last (event ${second.eventId}): HTTP 404`);
    assert.ok(disabled.disabled.at instanceof Date && disabled.disabled.at.getTime() >= before - 1000);
    assert.equal(disabled.health?.consecutiveFailures, 0, 're-enabling starts the count again');
    // Logged right after the write that disabled it.
    const logged = () => h.logs.some((entry) => entry.severity === 'NOTICE' && entry.message === `webhook dead ${disabled.disabled!.reason}`);
    for (let waited = 0; !logged() && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(logged(), 'the disable is logged with its reason');

    // Disabled: the next event is not delivered at all.
    const third = eventOf('call.created', ACCOUNT, { n: 3 });
    await h.publish(third);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await h.delivery(ACCOUNT, 'dead', third.id), undefined);
    assert.equal(receiver.requests.filter((request) => request.url === '/dead').length, 2);
  });

  it('a success in between resets the count', async () => {
    await createWebhook('flaky', [404, 200, 404]);
    assert.equal((await deliver('flaky')).status, 'failed');
    await stateWhen('flaky', failures(1));
    assert.equal((await deliver('flaky')).status, 'succeeded');
    await stateWhen('flaky', failures(0));
    assert.equal((await deliver('flaky')).status, 'failed');
    const after = await stateWhen('flaky', failures(1));
    assert.notEqual(after.enabled, false);
    assert.equal(after.disabled, undefined);
    assert.equal(after.health?.consecutiveFailures, 1);
  });

  it('a count a success did not reset (it read a stale count) does not disable: the delivery log decides', async () => {
    await createWebhook('overstated', [200, 404, 404]);
    assert.equal((await deliver('overstated')).status, 'succeeded');
    // What a success leaves when the count it read with its (cached) webhook was 0 but failures had been
    // counted since: the count says 1, the log ends with a success.
    await h.db.doc(webhookPath(ACCOUNT, 'overstated')).update({ 'health.consecutiveFailures': 1 });
    assert.equal((await deliver('overstated')).status, 'failed');
    // The count went to 2, the log shows one failure since the success: set back to 1, not disabled.
    await h.waitForLog((entry) => entry.webhookId === 'overstated' && /the failure count was above the last 1 consecutive failed deliveries/.test(entry.message));
    const corrected = await state('overstated');
    assert.notEqual(corrected.enabled, false, 'one failure since the last success: not disabled');
    assert.equal(corrected.health?.consecutiveFailures, 1);
    // The next failure makes two in a row: disabled, with the count the log confirms.
    assert.equal((await deliver('overstated')).status, 'failed');
    const disabled = await stateWhen('overstated', (value) => value.enabled === false);
    assert.equal(disabled.disabled?.consecutiveFailures, 2);
  });

  it('a log without a success (records expired, or few deliveries): the count is trusted', async () => {
    // The failures that made the count are past the log's retention: the log shows no success to contradict it.
    await createWebhook('expired', [404]);
    await h.db.doc(webhookPath(ACCOUNT, 'expired')).update({ 'health.consecutiveFailures': 1 });
    assert.equal((await deliver('expired')).status, 'failed');
    const disabled = await stateWhen('expired', (value) => value.enabled === false);
    assert.equal(disabled.disabled?.consecutiveFailures, 2);
  });

  it('a delivery failing after its retries (through the retry worker) counts like any other', async () => {
    await createWebhook('retried', [500, 500, 500, 500, 404]);
    const first = await deliver('retried');
    assert.equal(first.status, 'failed');
    assert.equal(first.attempts.length, 4);
    await stateWhen('retried', failures(1));
    assert.equal((await deliver('retried')).status, 'failed');
    const disabled = await stateWhen('retried', (value) => value.enabled === false);
    assert.match(disabled.disabled?.reason ?? '', /after 2 consecutive failed deliveries/);
  });

  it('invalid deliveries do not count: they are configuration errors the validation shows', async () => {
    // The body renders for the catalogue sample but not for this data (a text where a number goes).
    await createWebhook('invalid', [], { body: '{"n": {{ data.n }}}' });
    for (let i = 0; i < 3; i++) assert.equal((await deliver('invalid', { n: 'not a number' })).status, 'invalid');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await state('invalid');
    assert.notEqual(after.enabled, false);
    assert.equal(after.health, undefined);
  });
});

describe("the delivery log's streak, which decides before a webhook is disabled (FirestoreWebhookStore on the emulator)", () => {
  const STREAK_ACCOUNT = 'acc_streak';
  /** Writes finished delivery records, newest first: 'ok' succeeded, anything else a failure with that errorCode. */
  async function log(webhookId: string, newestFirst: string[]) {
    const batch = h.db.batch();
    const now = Date.now();
    newestFirst.forEach((outcome, index) => {
      const record = outcome === 'ok' ? { status: 'succeeded' } : { status: 'failed', errorCode: outcome };
      batch.set(h.db.doc(deliveryPath(STREAK_ACCOUNT, webhookId, `evt_${String(index).padStart(3, '0')}`)), { ...record, createdAt: new Date(now - index * 1000) });
    });
    // A delivery still retrying is not finished: never part of the streak.
    batch.set(h.db.doc(deliveryPath(STREAK_ACCOUNT, webhookId, 'evt_pending')), { status: 'retrying', createdAt: new Date(now + 1000) });
    await batch.commit();
  }
  const streak = (webhookId: string, upTo: number) => new FirestoreWebhookStore(h.db).failureStreak(STREAK_ACCOUNT, webhookId, upTo);

  it('counts the failures since the latest success, reading past our own faults and removed webhooks', async () => {
    await log('wh_mixed', ['http_404', 'internal_error', 'http_500', 'stalled', 'webhook_removed', 'timeout', 'ok', 'http_500', 'http_500']);
    assert.equal(await streak('wh_mixed', 5), 3);
    assert.equal(await streak('wh_mixed', 2), 2, 'counting stops at upTo');
  });

  it('a success just before: 0; no success in the log at all: the count is trusted (upTo)', async () => {
    await log('wh_recovered', ['ok', 'http_500', 'http_500', 'http_500']);
    assert.equal(await streak('wh_recovered', 3), 0);
    await log('wh_no_success', ['http_500', 'internal_error']);
    assert.equal(await streak('wh_no_success', 3), 3);
  });

  it(`reads past a run of ${UNCOUNTED_READ_PAST} uncounted failures to the success before it; past more, the count is trusted`, async () => {
    await log('wh_long_run', ['http_500', ...Array<string>(UNCOUNTED_READ_PAST).fill('internal_error'), 'ok']);
    assert.equal(await streak('wh_long_run', 2), 1);
    await log('wh_longer_run', ['http_500', ...Array<string>(UNCOUNTED_READ_PAST + 2).fill('internal_error'), 'ok']);
    assert.equal(await streak('wh_longer_run', 2), 2);
  });
});
