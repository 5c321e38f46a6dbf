/**
 * Found in review: every recovery counted as a takeover, so a retry that only ran late (the repair
 * sweep re-enqueueing it while the queue had a backlog) ended the delivery `stalled` after a few sweeps
 * although no instance had stopped. A takeover now counts only when a lost attempt is recorded.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_TAKEOVERS } from '../../functions/src/delivery/lease.ts';
import { response, World } from './delivery-fakes.ts';

it('a retry whose task is lost again and again is re-enqueued without counting takeovers, and then delivered', async () => {
  const world = new World({ webhooks: ['wh-a'] });
  world.sender.respond = (_request, previous) => (previous === 0 ? response(500) : response(200));
  await world.publish();
  for (let sweep = 0; sweep <= MAX_TAKEOVERS + 1; sweep += 1) {
    // The task never ran and is gone (GetTask finds nothing): the sweep finds the retry overdue and enqueues it again.
    for (const task of world.scheduler.pending()) task.done = true;
    world.clock.advance(world.timing.overdueMs + 60_000);
    const summary = await world.sweep();
    assert.equal(summary.repaired, 1);
    const record = world.record('wh-a');
    assert.equal(record.status, 'retrying', `sweep ${sweep + 1}: ${record.status} ${record.errorCode}: ${record.lastError}`);
    assert.equal(record.takeovers ?? 0, 0);
  }
  await world.drainTasks();
  const record = world.record('wh-a');
  assert.equal(record.status, 'succeeded');
  assert.deepEqual(record.attempts.map((attempt) => attempt.outcome), ['retryable', 'succeeded']);
  assert.equal(world.received('wh-a'), 2);
});

it('a retry overdue only because its queue is behind (its task still queued) is left to its task', async () => {
  const world = new World({ webhooks: ['wh-a'] });
  world.sender.respond = (_request, previous) => (previous === 0 ? response(500) : response(200));
  await world.publish();
  for (let sweep = 0; sweep <= MAX_TAKEOVERS + 1; sweep += 1) {
    world.clock.advance(world.timing.overdueMs + 60_000);
    const summary = await world.sweep();
    assert.equal(summary.repaired, 0);
    const record = world.record('wh-a');
    assert.equal(record.status, 'retrying');
    assert.equal(record.takeovers ?? 0, 0);
  }
  assert.equal(world.scheduler.pending().length, 1, 'no second task: the queued one still runs');
  await world.drainTasks();
  assert.equal(world.record('wh-a').status, 'succeeded');
  assert.equal(world.received('wh-a'), 2);
});
