/**
 * Found in review: after a replay of a delivery that once succeeded, the recovery (recoverStale) and the
 * end by an internal error (failInternally) took the earlier series' 2xx for this series' and finished
 * the replay `succeeded` without delivering it. Only the attempts since the replay count.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startReplay } from '../../functions/src/delivery/transitions.ts';
import { bugError, transientError, World } from './delivery-fakes.ts';

/** What the API's and the CLI's replay do: the transition, then its first attempt's task. */
async function replay(world: World, webhookId: string): Promise<void> {
  const key = world.key(webhookId);
  const start = await world.deliveries.modify(key, startReplay(world.clock.now(), world.timing));
  assert.ok(start.started, 'replayed');
  await world.scheduler.schedule({ ...key, attempt: start.next.number, series: start.next.series }, world.clock.now());
}

const attemptsOf = (world: World) => world.record('wh-a').attempts.map((attempt) => `${attempt.number} ${attempt.outcome}`);

describe('a replay of a delivery that once succeeded', () => {
  it('whose worker dies mid-send is recovered and delivered, not finished on the earlier 2xx', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    await world.publish();
    assert.equal(world.record('wh-a').status, 'succeeded');
    world.clock.advance(3_600_000);
    await replay(world, 'wh-a');
    // The worker's instance goes away as the request leaves: attempt 2 stays in flight.
    world.faults.inject('sender.before', transientError('instance stopped'));
    await world.runNextTask();
    assert.ok(world.record('wh-a').inFlight, 'attempt 2 left in flight');
    world.clock.advance(world.timing.leaseMs + 1000);
    await world.sweep();
    const recovered = world.record('wh-a');
    assert.equal(recovered.status, 'retrying', `${recovered.status}: ${recovered.lastError}`);
    await world.drainTasks();
    const record = world.record('wh-a');
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(attemptsOf(world), ['1 succeeded', '2 unknown', '3 succeeded']);
    assert.equal(world.received('wh-a'), 2, 'the original send and the replay (attempt 2 never left)');
  });

  it('ended by an internal error ends failed (internal_error), not succeeded', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    await world.publish();
    world.clock.advance(3_600_000);
    await replay(world, 'wh-a');
    world.faults.inject('engine.render', bugError('render'));
    const run = await world.runNextTask();
    assert.equal(run?.answer?.httpStatus, 200);
    const record = world.record('wh-a');
    assert.equal(record.status, 'failed', `${record.status}: ${record.lastError}`);
    assert.equal(record.errorCode, 'internal_error');
    assert.equal(world.received('wh-a'), 1);
  });

  it('of an older record (replays without firstAttempt) counts the attempts started since the replay', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    await world.publish();
    world.clock.advance(3_600_000);
    await replay(world, 'wh-a');
    const legacy = world.record('wh-a');
    world.deliveries.put({ ...legacy, replays: legacy.replays!.map(({ firstAttempt: _dropped, ...entry }) => entry) });
    world.faults.inject('engine.render', bugError('render'));
    await world.runNextTask();
    assert.equal(world.record('wh-a').status, 'failed');
  });
});
