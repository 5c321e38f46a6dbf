import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordWebhookHealth } from '../../functions/src/delivery/commit.ts';
import type { DeliveryKey, DeliveryUpdate, WebhookHealthStore } from '../../functions/src/delivery/ports.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';
import { ACCOUNT, World } from './delivery-fakes.ts';

// recordWebhookHealth's decisions, on a health store that records its calls: the counter is the cheap
// filter, the delivery log (failureStreak) decides before a webhook is disabled. The Firestore store
// itself runs in test/integration/auto-disable.test.ts.
const THRESHOLD = 3;
const key: DeliveryKey = { accountId: ACCOUNT, webhookId: 'wh', eventId: 'evt-9' };

class RecordingHealth implements WebhookHealthStore {
  readonly calls: string[] = [];
  streak: number | Error = THRESHOLD;
  async countFailure() {
    this.calls.push('countFailure');
  }
  async resetFailures() {
    this.calls.push('resetFailures');
  }
  async failureStreak(_accountId: string, _webhookId: string, upTo: number) {
    this.calls.push(`failureStreak(${upTo})`);
    if (this.streak instanceof Error) throw this.streak;
    return this.streak;
  }
  async lowerFailures(_accountId: string, _webhookId: string, count: number) {
    this.calls.push(`lowerFailures(${count})`);
  }
  async disableIfFailing(_accountId: string, _webhookId: string, threshold: number, _at: Date, reason: (count: number) => string) {
    this.calls.push(`disableIfFailing(${threshold})`);
    reason(threshold);
    return threshold;
  }
}

function run(update: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'lastError'>, seenFailures: number, health = new RecordingHealth()) {
  const published: EventMessage[] = [];
  const deps = { ...new World().deps(), autoDisable: { afterFailures: THRESHOLD, health }, operations: { publish: async (message: EventMessage) => void published.push(message) } };
  const logger = createMemoryLogger();
  return recordWebhookHealth(deps, key, update, seenFailures, logger, 'Webhook').then(() => ({ calls: health.calls, published, entries: logger.entries }));
}

const failed = (errorCode: DeliveryUpdate['errorCode'] = 'http_error') => ({ status: 'failed' as const, errorCode, lastError: 'HTTP 404' });

describe('auto-disable: the counter filters, the delivery log decides', () => {
  it('below the threshold: one more failure counted, nothing read', async () => {
    const { calls } = await run(failed(), THRESHOLD - 2);
    assert.deepEqual(calls, ['countFailure']);
  });

  it('the threshold reached and the log confirms it: disabled and announced', async () => {
    const { calls, published } = await run(failed(), THRESHOLD - 1);
    assert.deepEqual(calls, ['countFailure', `failureStreak(${THRESHOLD})`, `disableIfFailing(${THRESHOLD})`]);
    assert.deepEqual(published.map((message) => message.type), ['hookshape.webhook.disabled']);
  });

  it('the count says the threshold, the log shows a success after 1 failure: lowered to 1, not disabled', async () => {
    const health = new RecordingHealth();
    health.streak = 1;
    const { calls, published, entries } = await run(failed(), THRESHOLD + 5, health);
    assert.deepEqual(calls, ['countFailure', `failureStreak(${THRESHOLD})`, 'lowerFailures(1)']);
    assert.deepEqual(published, []);
    assert.ok(entries.some((entry) => entry.severity === 'INFO' && /failure count was above the last 1 consecutive failed deliveries/.test(entry.message)));
  });

  it('the log cannot be read: not disabled, an error that says so (not "could not update the count")', async () => {
    const health = new RecordingHealth();
    health.streak = Object.assign(new Error('14 UNAVAILABLE: query'), { code: 14 });
    const { calls, published, entries } = await run(failed(), THRESHOLD - 1, health);
    assert.deepEqual(calls, ['countFailure', `failureStreak(${THRESHOLD})`]);
    assert.deepEqual(published, []);
    const errors = entries.filter((entry) => entry.severity === 'ERROR');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /could not read its delivery log to confirm 3 consecutive failures; not disabled now.*UNAVAILABLE/);
  });

  for (const errorCode of ['internal_error', 'stalled', 'webhook_removed'] as const) {
    it(`a delivery that failed with ${errorCode} does not count`, async () => {
      const { calls } = await run(failed(errorCode), THRESHOLD - 1);
      assert.deepEqual(calls, []);
    });
  }

  it('a success resets a count it read above 0, and writes nothing when it read 0', async () => {
    assert.deepEqual((await run({ status: 'succeeded', errorCode: null, lastError: null }, 2)).calls, ['resetFailures']);
    assert.deepEqual((await run({ status: 'succeeded', errorCode: null, lastError: null }, 0)).calls, []);
  });
});
