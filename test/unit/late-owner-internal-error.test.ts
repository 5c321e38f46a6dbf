/**
 * Found in the operations audit: an owner that outlives its lease and then meets a lasting fault
 * (failInternally) found its write superseded by the takeover — and still logged `delivery failed
 * (internal_error)` with `deliveryOutcome` (counted by the log metric hookshape/deliveries, whose
 * counts operations.md calls exact) and announced hookshape.delivery.failed for a delivery whose
 * record says succeeded. A superseded result is logged as a late attempt, never as an outcome.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { bugError, World } from './delivery-fakes.ts';

class AnnouncingWorld extends World {
  readonly published: EventMessage[] = [];

  override deps() {
    return { ...super.deps(), operations: { publish: async (message: EventMessage) => void this.published.push(message) } };
  }
}

it('a late owner that fails internally after the takeover logs no outcome and announces nothing', async () => {
  const world = new AnnouncingWorld({ webhooks: ['wh-a'] });
  // Attempt 2 hangs past its lease, the takeover's attempt 3 succeeds, then the late run meets a bug: a
  // lasting fault, ended by failInternally.
  world.lateSecondAttempt(() => {
    throw bugError('late');
  });
  await world.publish();
  await world.runNextTask(); // attempt 2: the slow one
  await world.drainTasks();

  const record = world.record('wh-a');
  assert.equal(record.status, 'succeeded', `${record.status}: ${record.lastError}`);
  assert.ok(world.logger.entries.some((entry) => /late attempt/.test(entry.message)), 'the late result is in the log');
  const outcomes = world.logger.entries.filter((entry) => entry['webhookId'] === 'wh-a' && entry['deliveryOutcome'] !== undefined).map((entry) => entry['deliveryOutcome']);
  assert.deepEqual(outcomes, ['succeeded'], 'one outcome line per delivery, the one recorded');
  assert.deepEqual(world.published.map((message) => message.type), [], 'no hookshape.delivery.failed for a delivery recorded succeeded');
});
