import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { until } from '../support/until.ts';

// A webhook's own `retry` through Cloud Tasks. The deployment's base delay is 0.2 s here (seconds in
// production: 60), so `exponential` waits 0.2, 0.4, 0.8, 1.6, 3.2, 6.4 s.
const BASE_SECONDS = 0.2;
let h: Harness;
let primary: Receiver;
let backup: Receiver;
const scripts = new Map<string, number[]>();

before(async () => {
  [h, primary, backup] = await Promise.all([startHarness({ env: { RETRY_BASE_DELAY_SECONDS: String(BASE_SECONDS), AUTO_DISABLE_AFTER_FAILURES: '2' } }), startReceiver(), startReceiver()]);
  for (const receiver of [primary, backup]) {
    receiver.respond((request, res) => {
      res.statusCode = scripts.get(request.url.split('?')[0]!)?.shift() ?? 200;
      res.end(`status ${res.statusCode}`);
    });
  }
});
after(async () => {
  await Promise.all([h.close(), primary.close(), backup.close()]);
});

const ACCOUNT = 'acc_retry_policy';
const requestsTo = (receiver: Receiver, path: string) => receiver.requests.filter((request) => request.url === path);

describe('retry policies per webhook', () => {
  it('retry {attempts: 6, schedule: exponential}: 7 requests, each wait twice the one before, then failed', async () => {
    scripts.set('/exp', Array(10).fill(503));
    await h.setWebhook(ACCOUNT, 'exp', { name: 'exp', events: ['call.created'], url: `${primary.url}/exp`, retry: { attempts: 6, schedule: 'exponential' } });
    const event = eventOf('call.created', ACCOUNT);
    await h.publish(event);
    const record = await h.waitForDelivery(ACCOUNT, 'exp', event.id, undefined, 60_000);
    assert.equal(record.status, 'failed');
    assert.equal(record.errorCode, 'retries_exhausted');
    assert.equal(record.attempts.length + (record.attemptsDropped ?? 0), 7);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const times = requestsTo(primary, '/exp').map((request) => request.at);
    assert.equal(times.length, 7, 'exactly 7 requests: the first and 6 retries');
    const expected = [1, 2, 4, 8, 16, 32].map((factor) => factor * BASE_SECONDS);
    // The schedule, exactly: each retry is due its delay after the answer to the attempt before
    // (the "retry scheduled" line names when; the record says when that answer came). Measured this
    // way, not from the receiver's clock, a busy machine's dispatch latency does not blur it.
    const scheduled: number[] = [];
    for (let next = 2; next <= 7; next += 1) {
      const line = h.logs.find((entry) => entry.retryScheduled === true && entry.eventId === event.id && entry.nextAttempt === next);
      assert.ok(line, `a "retry scheduled" line for attempt ${next}`);
      const due = Date.parse(/ due (\S+)$/.exec(line.message)![1]!);
      const previous = record.attempts.find((attempt) => attempt.number === next - 1)!;
      scheduled.push((due - (new Date(previous.startedAt).getTime() + previous.durationMs)) / 1000);
    }
    for (const [index, delay] of scheduled.entries()) {
      assert.ok(delay >= expected[index]! - 0.01 && delay < expected[index]! + 0.5, `retry ${index + 1} was scheduled ${delay} s after the answer, the schedule says ${expected[index]} s (scheduled: ${scheduled.join(', ')})`);
    }
    // And no retry reached the receiver before its time.
    const waits = times.slice(1).map((at, index) => (at - times[index]!) / 1000);
    for (const [index, wait] of waits.entries()) {
      assert.ok(wait >= expected[index]! - 0.02, `wait ${index + 1} was ${wait} s, the schedule says ${expected[index]} s (waits: ${waits.join(', ')})`);
    }
  });

  it('retryOn [408] with explicit delays: a 408 is retried, then the backup rule still applies', async () => {
    scripts.set('/r408', [408, 408]);
    await h.setWebhook(ACCOUNT, 'r408', { name: 'r408', events: ['call.created'], url: `${primary.url}/r408`, backupUrl: `${backup.url}/r408`, retry: { delaysSeconds: [0.3], retryOn: [408] } });
    const event = eventOf('call.created', ACCOUNT);
    await h.publish(event);
    const record = await h.waitForDelivery(ACCOUNT, 'r408', event.id);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.deepEqual(record.attempts.map((attempt) => [attempt.target, attempt.response?.status]), [['primary', 408], ['primary', 408], ['backup', 200]]);
  });

  it('retryOn without 5xx: a 503 is not retried; auto-disable counts those failures as usual', async () => {
    scripts.set('/no5xx', Array(10).fill(503));
    await h.setWebhook(ACCOUNT, 'no5xx', { name: 'no5xx', events: ['call.created'], url: `${primary.url}/no5xx`, retry: { retryOn: [429] } });
    for (const failures of [1, 2]) {
      const event = eventOf('call.created', ACCOUNT);
      await h.publish(event);
      const record = await h.waitForDelivery(ACCOUNT, 'no5xx', event.id);
      assert.equal(record.status, 'failed');
      assert.equal(record.errorCode, 'http_error');
      assert.equal(record.attempts.length, 1);
      // The count is written just after the record; the next delivery reads it with the webhook.
      if (failures === 1) await until('the failure count', async () => ((await h.db.doc(`accounts/${ACCOUNT}/webhooks/no5xx`).get()).get('health.consecutiveFailures') === 1 ? true : undefined), 10_000);
    }
    const deadline = Date.now() + 10_000;
    let document: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      document = (await h.db.doc(`accounts/${ACCOUNT}/webhooks/no5xx`).get()).data();
      if (document?.enabled === false) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(document?.enabled, false, 'disabled after 2 failed deliveries (AUTO_DISABLE_AFTER_FAILURES=2)');
    assert.equal(requestsTo(primary, '/no5xx').length, 2);
  });
});
