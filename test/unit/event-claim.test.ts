/**
 * The event claim (issue 18: fewer than 2N writes for an event to N webhooks, per-delivery idempotency
 * kept): one create per event before anything is sent, then each delivery's first write is its result.
 * The real dispatcher, retry worker and repair sweep over the in-memory fakes (delivery-fakes.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFailure } from '../../functions/src/core/failures.ts';
import { MAX_TAKEOVERS } from '../../functions/src/delivery/lease.ts';
import { RedeliverError } from '../../functions/src/dispatch/dispatch-event.ts';
import { assertSiblingsDelivered, outcomes, SIBLINGS } from './delivery-checks.ts';
import { ACCOUNT, event, forWebhook, lastingError, response, transientError, webhookDocument, World } from './delivery-fakes.ts';

/** Documents written: event claims (creates and takeovers) and delivery records. */
const writesOf = (world: World) => world.eventClaims.writes.length + world.deliveries.writtenBytes.length;

/** wh-a's first request waits until `release` is called (its owner is still at work). */
function holdFirst(world: World, webhookId = 'wh-a', answer = response(200)) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const sending = new Promise<void>((resolve) => (reached = resolve));
  world.sender.respond = async (request, previous) => {
    if (request.url.includes(`/${webhookId}/`) && previous === 0) {
      reached();
      await gate;
      return answer;
    }
    return response(200);
  };
  return { sending, release };
}

describe('event claim: writes', () => {
  const cases = [
    { name: '1 webhook', webhooks: 1, writes: 2 },
    { name: '10 webhooks', webhooks: 10, writes: 11 },
    { name: '100 webhooks', webhooks: 100, writes: 101 },
  ];
  for (const { name, webhooks, writes } of cases) {
    it(`${name} on the success path: ${writes} writes (1 + 1/N per delivery), each delivered once`, async () => {
      const ids = Array.from({ length: webhooks }, (_, index) => `wh-${String(index).padStart(3, '0')}`);
      const world = new World({ webhooks: ids, maxWebhooksPerEvent: 100 });
      const published = await world.publish();
      assert.equal(published.acked, true);
      assert.equal(world.eventClaims.writes.length, 1, 'one event claim');
      assert.equal(world.deliveries.writtenBytes.length, webhooks, 'one write per delivery: its result');
      assert.equal(writesOf(world), writes);
      assert.deepEqual(world.eventClaims.peek()!.webhookIds, ids, 'the claim lists the deliverable webhooks in delivery order');
      for (const id of ids) {
        assert.equal(world.record(id).status, 'succeeded');
        assert.equal(world.received(id), 1);
      }
    });
  }

  it('no deliverable webhook (filtered out, disabled): no claim and no write', async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set(ACCOUNT, 'wh-f', webhookDocument('wh-f', { filter: { 'data.call.id': 'another' } }));
    world.webhooks.set(ACCOUNT, 'wh-d', webhookDocument('wh-d', { enabled: false }));
    const published = await world.publish();
    assert.equal(published.acked, true);
    assert.equal(writesOf(world), 0);
    assert.equal(world.eventClaims.peek(), undefined);
  });

  it('a retrying answer and a rate-limited webhook: one create each (the queued record and its task)', async () => {
    const world = new World({ webhooks: ['wh-a', 'wh-r'] });
    world.webhooks.set(ACCOUNT, 'wh-r', webhookDocument('wh-r', { rateLimit: { perSecond: 1 } }));
    world.sender.respond = () => response(503);
    assert.equal((await world.publish()).acked, true);
    assert.equal(writesOf(world), 3);
    assert.equal(world.record('wh-a').status, 'retrying');
    assert.equal(world.record('wh-r').status, 'retrying');
    assert.equal(world.received('wh-r'), 0, 'a rate-limited webhook is never sent inline');
    assert.equal(world.scheduler.tasks.length, 2);
  });

  it('a redelivery after every result is recorded: acknowledged, nothing sent, nothing written', async () => {
    const world = new World();
    assert.equal((await world.publish()).acked, true);
    const writes = writesOf(world);
    for (const wait of [1_000, world.timing.leaseMs * 2]) {
      world.clock.advance(wait);
      const again = await world.publish();
      assert.equal(again.acked, true);
      assert.deepEqual(again.acked && again.outcomes.map((outcome) => outcome.status), ['skipped', 'skipped', 'skipped']);
    }
    assert.equal(writesOf(world), writes);
    assert.equal(world.sender.requests.length, 3);
  });
});

describe('event claim: faults and takeovers', () => {
  it('the claim write fails (transient): redelivered, nothing sent, nothing written; the redelivery delivers each once', async () => {
    const world = new World();
    world.faults.inject('eventClaims.claim', () => transientError());
    const published = await world.publish();
    assert.equal(published.acked, false);
    assert.equal(classifyFailure(!published.acked && published.error), 'transient');
    assert.equal(world.sender.requests.length, 0);
    assert.equal(writesOf(world), 0);
    assert.equal((await world.publish()).acked, true);
    for (const id of ['wh-a', ...SIBLINGS]) assert.equal(world.received(id), 1);
  });

  it('the claim write fails (lasting): every delivery ends failed (internal_error), nothing sent, acknowledged', async () => {
    const world = new World();
    world.faults.inject('eventClaims.claim', () => lastingError());
    const published = await world.publish();
    assert.equal(published.acked, true);
    assert.equal(world.sender.requests.length, 0);
    for (const id of ['wh-a', ...SIBLINGS]) {
      const record = world.record(id);
      assert.equal(record.status, 'failed');
      assert.equal(record.errorCode, 'internal_error');
      assert.match(record.lastError!, /internal error while claiming the event/);
    }
  });

  it('crash after the send, before the result: within the lease redelivered (nothing sent or written); after it taken over (unknown, a task), nothing sent inline', async () => {
    const world = new World();
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    assertSiblingsDelivered(world);
    const writes = writesOf(world);
    world.clock.advance(world.timing.leaseMs - 1_000);
    const early = await world.publish();
    assert.ok(!early.acked && early.error instanceof RedeliverError, 'within the lease: redelivered later');
    assert.equal(writesOf(world), writes);
    assert.equal(world.received('wh-a'), 1);
    world.clock.advance(1_000);
    assert.equal((await world.publish()).acked, true);
    assert.equal(world.received('wh-a'), 1, 'the takeover sends nothing inline');
    assert.equal(writesOf(world), writes + 2, 'the claim taken over, the record created');
    assert.deepEqual(outcomes(world.record('wh-a')), ['unknown']);
    assert.equal(world.scheduler.of('wh-a').length, 1);
    assertSiblingsDelivered(world);
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    assert.equal(world.received('wh-a'), 2);
  });

  it('partial results: only the deliveries without a record are taken over', async () => {
    const world = new World();
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-c') });
    assert.equal((await world.publish()).acked, false);
    const before = { a: world.record('wh-a'), b: world.record('wh-b') };
    assert.equal(world.deliveries.peek(world.key('wh-c')), undefined);
    assert.equal((await world.redeliverAfterLease()).acked, true);
    assert.deepEqual(world.record('wh-a'), before.a);
    assert.deepEqual(world.record('wh-b'), before.b);
    assert.deepEqual(outcomes(world.record('wh-c')), ['unknown']);
    assert.deepEqual(world.scheduler.tasks.map((task) => task.task.webhookId), ['wh-c']);
    await world.drainTasks();
    assert.equal(world.record('wh-c').status, 'succeeded');
    assert.deepEqual([world.received('wh-a'), world.received('wh-b'), world.received('wh-c')], [1, 1, 2]);
  });

  it("a late owner's result create loses against the takeover: the takeover's record stands, the late result is logged", async () => {
    const world = new World({ webhooks: ['wh-a'] });
    const { sending, release } = holdFirst(world);
    const owner = world.publish();
    await sending;
    // The owner outlives the lease; a redelivery takes the event over meanwhile.
    assert.equal((await world.redeliverAfterLease()).acked, true);
    const takenOver = world.record('wh-a');
    assert.deepEqual(outcomes(takenOver), ['unknown']);
    release();
    const late = await owner;
    assert.equal(late.acked, true);
    assert.deepEqual(late.acked && late.outcomes.map((outcome) => outcome.status), ['skipped']);
    assert.deepEqual(world.record('wh-a'), takenOver, 'not overwritten by the late owner');
    assert.ok(world.logger.entries.some((entry) => /late attempt: this run held attempt 1 past its lease/.test(entry.message)));
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    assert.deepEqual(outcomes(world.record('wh-a')), ['unknown', 'succeeded']);
    assert.equal(world.received('wh-a'), 2, 'the one unknown-outcome re-send');
  });

  it('a late owner that wins the create first: the takeover finds its record and moves it on as a redelivery would', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    const { sending, release } = holdFirst(world, 'wh-a', response(500));
    const owner = world.publish();
    await sending;
    world.clock.advance(world.timing.leaseMs + 1_000);
    // The takeover reads no record, wins the claim; the owner's answer lands before its creates.
    world.eventClaims.beforeTakeOver = async () => {
      world.eventClaims.beforeTakeOver = undefined;
      release();
      assert.equal((await owner).acked, true);
    };
    assert.equal((await world.publish()).acked, true);
    const record = world.record('wh-a');
    assert.equal(record.status, 'retrying');
    assert.deepEqual(outcomes(record), ['retryable'], "the owner's result stands: no unknown attempt");
    assert.equal(world.scheduler.tasks.length, 1, 'one task, the owner’s');
  });

  it('two concurrent takeovers: one wins, the other writes nothing and has the event redelivered', async () => {
    const world = new World();
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    world.clock.advance(world.timing.leaseMs + 1_000);
    let rival: Awaited<ReturnType<World['publish']>> | undefined;
    world.eventClaims.beforeTakeOver = async () => {
      world.eventClaims.beforeTakeOver = undefined;
      rival = await world.publish(); // reads the same claim, takes it over first
    };
    const loser = await world.publish();
    assert.equal(rival?.acked, true, 'the rival won');
    assert.ok(!loser.acked && loser.error instanceof RedeliverError, 'the loser has the event redelivered');
    assert.equal(world.eventClaims.peek()!.takeovers, 1);
    assert.deepEqual(outcomes(world.record('wh-a')), ['unknown']);
    assert.equal(world.scheduler.of('wh-a').length, 1);
    assert.equal(world.scheduler.duplicates, 0);
    const again = await world.publish();
    assert.equal(again.acked, true);
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    assert.equal(world.received('wh-a'), 2);
  });

  it(`takeovers counted on the event claim: past MAX_TAKEOVERS (${MAX_TAKEOVERS}) the delivery ends failed / stalled`, async () => {
    const world = new World({ webhooks: ['wh-a'] });
    // Every instance stops after the send; each takeover of the event itself dies before its writes.
    world.faults.inject('sender.after', () => transientError('instance stopped'), { times: 1 });
    assert.equal((await world.publish()).acked, false);
    world.faults.inject('deliveries.claim', () => transientError('instance stopped'), { times: MAX_TAKEOVERS });
    for (let n = 1; n <= MAX_TAKEOVERS; n += 1) assert.equal((await world.redeliverAfterLease()).acked, false);
    assert.equal(world.eventClaims.peek()!.takeovers, MAX_TAKEOVERS);
    assert.equal((await world.redeliverAfterLease()).acked, true);
    const record = world.record('wh-a');
    assert.equal(record.status, 'failed');
    assert.equal(record.errorCode, 'stalled');
    assert.equal(record.takeovers, MAX_TAKEOVERS + 1);
    assert.equal(world.received('wh-a'), 1);
    assert.equal(world.scheduler.tasks.length, 0);
  });

  it('a takeover of a webhook deleted since the claim records the lost attempt; the worker ends it webhook_removed', async () => {
    const world = new World();
    world.faults.inject('sender.after', () => transientError('instance stopped'), { when: forWebhook('wh-a') });
    assert.equal((await world.publish()).acked, false);
    world.webhooks.delete(ACCOUNT, 'wh-a');
    assert.equal((await world.redeliverAfterLease(event())).acked, true);
    assert.deepEqual(outcomes(world.record('wh-a')), ['unknown']);
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'failed');
    assert.equal(world.record('wh-a').errorCode, 'webhook_removed');
    assert.equal(world.received('wh-a'), 1);
  });
});
