/**
 * Found in review: an owner that outlives its lease (slow, not dead) wrote its result blindly over what
 * the takeover and the attempts after it recorded. Its writes are now conditioned on its own claim.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { response, World } from './delivery-fakes.ts';

it('a worker that answers after its lease does not overwrite the takeover and the later attempt it scheduled', async () => {
  const world = new World({ webhooks: ['wh-a'] });
  // Attempt 2 hangs past its lease, the takeover's attempt 3 succeeds, then attempt 2 answers 503.
  world.lateSecondAttempt(() => response(503));
  await world.publish();
  const answer = await world.runNextTask(); // attempt 2: the slow one
  assert.equal(answer?.answer?.httpStatus, 200);
  await world.drainTasks();
  const record = world.record('wh-a');
  assert.equal(record.status, 'succeeded', `${record.status}: ${record.lastError}`);
  assert.deepEqual(record.attempts.map((attempt) => `${attempt.number} ${attempt.outcome}`), ['1 retryable', '2 unknown', '3 succeeded']);
  assert.equal(world.received('wh-a'), 3, 'nothing sent after the recorded 2xx');
  assert.deepEqual(world.sentAfterRecorded2xx, []);
  assert.ok(world.logger.entries.some((entry) => /late attempt/.test(entry.message)), 'the late result is in the log');
});
