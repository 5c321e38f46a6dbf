/**
 * Found in review: a passing fault after the worker's claim but before any request left (loading the
 * webhook or the secrets) left the attempt marked in flight, so Cloud Tasks' rerun met it `busy` (409)
 * until the lease passed and then recorded an attempt that never left as `unknown` (a takeover). The
 * claim is now given back, and the rerun sends at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TASK_RETRY_MS, response, transientError, World, type FaultPoint } from './delivery-fakes.ts';

const CASES: Array<{ name: string; point: FaultPoint }> = [
  { name: 'loading the secrets (secretsFor throws UNAVAILABLE)', point: 'secrets.secretsFor' },
  { name: 'loading the webhook (UNAVAILABLE)', point: 'webhooks.get' },
];

describe('a passing fault after the worker claimed its attempt, before the send', () => {
  for (const { name, point } of CASES) {
    it(`${name}: the claim is given back and the rerun task delivers it, with no unknown attempt and no takeover`, async () => {
      const world = new World({ webhooks: ['wh-a'] });
      world.sender.respond = (_request, previous) => (previous === 0 ? response(500) : response(200));
      await world.publish();
      world.faults.inject(point, transientError());
      const failed = await world.runNextTask();
      assert.ok(failed?.error, 'the worker throws (503): Cloud Tasks runs the task again');
      assert.equal(world.record('wh-a').inFlight, null, 'nothing left: no attempt is in flight');
      const rerun = await world.runNextTask();
      assert.equal(rerun?.at.getTime(), failed!.at.getTime() + TASK_RETRY_MS);
      assert.equal(rerun?.answer?.httpStatus, 200, rerun?.answer?.note);
      const record = world.record('wh-a');
      assert.equal(record.status, 'succeeded');
      assert.deepEqual(record.attempts.map((attempt) => attempt.outcome), ['retryable', 'succeeded']);
      assert.equal(record.takeovers, 0);
      assert.equal(world.received('wh-a'), 2);
    });
  }
});
