/**
 * Takeovers of an event claim (issue 18 review): what a redelivery past the claim's lease records for a
 * delivery without a record. The real dispatcher and retry worker over the in-memory fakes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCOUNT, forWebhook, lastingError, transientError, World } from './delivery-fakes.ts';

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
});
