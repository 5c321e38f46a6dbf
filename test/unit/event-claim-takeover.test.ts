/**
 * Takeovers of an event claim (issue 18 review): what a redelivery past the claim's lease records for a
 * delivery without a record. The real dispatcher and retry worker over the in-memory fakes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomes } from './delivery-checks.ts';
import { ACCOUNT, forWebhook, lastingError, transientError, webhookDocument, World } from './delivery-fakes.ts';

describe('event claim takeover: review findings', () => {
  it('a webhook deleted since the claim whose takeover record cannot be created (lasting fault): not acknowledged without a record', async () => {
    const world = new World();
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    world.webhooks.delete(ACCOUNT, 'wh-a');
    world.faults.inject('deliveries.claim', () => lastingError(), { when: forWebhook('wh-a') });
    const takeover = await world.redeliverAfterLease();
    const recorded = world.deliveries.peek(world.key('wh-a'));
    assert.ok(!takeover.acked || recorded !== undefined, 'acknowledged while wh-a has no record: nothing could ever recover it');
    if (!recorded) {
      // Redelivered: the next takeover records it.
      assert.equal((await world.redeliverAfterLease()).acked, true);
    }
    assert.ok(world.deliveries.peek(world.key('wh-a')), 'wh-a is recorded');
    assert.equal(world.received('wh-a'), 1);
  });

  it('a takeover keeps the fan-out position the claim recorded: a webhook sent by the lost owner is not recorded "not sent"', async () => {
    const world = new World({ webhooks: ['wh-b', 'wh-c'], maxWebhooksPerEvent: 2 });
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-c') });
    assert.equal((await world.publish()).acked, false);
    assert.equal(world.received('wh-c'), 1, 'the lost owner sent wh-c');
    // A webhook added since sorts first: wh-c is now third of the account's subscribers.
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a'));
    assert.equal((await world.redeliverAfterLease()).acked, true);
    const record = world.record('wh-c');
    assert.notEqual(record.errorCode, 'fan_out_limit', `wh-c was sent, yet recorded: ${record.lastError}`);
    assert.deepEqual(outcomes(record), ['unknown']);
  });

  it('a webhook made invalid since the claim: its lost attempt is recorded unknown, not "nothing was sent"', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { url: 42 }));
    assert.equal((await world.redeliverAfterLease()).acked, true);
    assert.deepEqual(outcomes(world.record('wh-a')), ['unknown'], 'the request the lost owner sent is on the record');
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'invalid');
    assert.equal(world.received('wh-a'), 1);
  });

  it("a redelivery without a traceparent takes over under the claim's trace (the lost owner's), not a new one", async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    const claimTrace = world.eventClaims.peek()!.traceId;
    assert.match(String(claimTrace), /^[0-9a-f]{32}$/);
    assert.equal((await world.redeliverAfterLease()).acked, true);
    assert.equal(world.record('wh-a').traceId, claimTrace);
  });

  it('a lasting fault reading a delivery of a redelivered event: not acknowledged while that delivery may have no record', async () => {
    const world = new World();
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    world.faults.inject('deliveries.get', () => lastingError(), { when: forWebhook('wh-a') });
    const first = await world.redeliverAfterLease();
    assert.ok(!first.acked || world.deliveries.peek(world.key('wh-a')), 'acknowledged while wh-a has no record');
    assert.equal((await world.redeliverAfterLease()).acked, true);
    assert.deepEqual(outcomes(world.record('wh-a')), ['unknown']);
  });
});
