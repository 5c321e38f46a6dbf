/**
 * Rate limit per webhook (`rateLimit`): the schema, the queue's name and limits, which queue the
 * worker accepts a task from, and the state machine's path for a rate-limited webhook (the first
 * attempt waits in the webhook's queue; a throttled backlog is not taken over; a queue that cannot be
 * made ends the delivery, recorded). Integration on the emulators: test/integration/rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../functions/src/config/runtime-config.ts';
import { GrpcStatus } from '../../functions/src/core/failures.ts';
import { fromAllowedQueue } from '../../functions/src/entry/retry-worker-handler.ts';
import { RateLimitedQueueError } from '../../functions/src/tasks/cloud-tasks-retry-scheduler.ts';
import { QUEUE_ID, queueRateLimits, rateLimitedQueueId, sameRateLimits } from '../../functions/src/tasks/rate-limited-queue.ts';
import { parseWebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';
import { repairDeliveries } from '../../functions/src/delivery/repair.ts';
import { silentLogger } from '../../functions/src/log/logger.ts';
import { ACCOUNT, event, response, webhookDocument, World } from './delivery-fakes.ts';

const parse = (rateLimit: unknown) => parseWebhookConfig('acc', 'wh', { name: 'n', events: ['call.created'], url: 'https://x.example/', rateLimit });

describe('rateLimit in the webhook schema', () => {
  const valid = [
    { name: 'perSecond only', input: { perSecond: 5 }, expected: { perSecond: 5 } },
    { name: 'maxInFlight only', input: { maxInFlight: 2 }, expected: { maxInFlight: 2 } },
    { name: 'both', input: { perSecond: 500, maxInFlight: 5000 }, expected: { perSecond: 500, maxInFlight: 5000 } },
  ];
  for (const { name, input, expected } of valid) {
    it(`accepts ${name}`, () => {
      const parsed = parse(input);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.deepEqual(parsed.webhook.rateLimit, expected);
    });
  }
  it('absent: no rateLimit on the parsed webhook (an older document parses as before)', () => {
    const parsed = parseWebhookConfig('acc', 'wh', { name: 'n', events: ['call.created'], url: 'https://x.example/' });
    assert.ok(parsed.ok);
    assert.equal('rateLimit' in parsed.webhook, false);
  });
  const invalid = [
    { name: 'empty map', input: {}, field: 'rateLimit', message: /perSecond, maxInFlight or both/ },
    { name: 'zero', input: { perSecond: 0 }, field: 'rateLimit.perSecond', message: /1 or more/ },
    { name: 'a fraction', input: { perSecond: 2.5 }, field: 'rateLimit.perSecond', message: /whole number/ },
    { name: 'over Cloud Tasks\' rate cap', input: { perSecond: 501 }, field: 'rateLimit.perSecond', message: /at most 500/ },
    { name: 'over Cloud Tasks\' concurrency cap', input: { maxInFlight: 5001 }, field: 'rateLimit.maxInFlight', message: /at most 5000/ },
    { name: 'a text', input: { maxInFlight: '3' }, field: 'rateLimit.maxInFlight', message: /whole number of requests at once/ },
    { name: 'an unknown key', input: { perMinute: 60 }, field: 'rateLimit', message: /perMinute: not a rate limit setting/ },
    { name: 'not a map', input: 5, field: 'rateLimit', message: /must be a map/ },
  ];
  for (const { name, input, field, message } of invalid) {
    it(`refuses ${name}, naming ${field}`, () => {
      const parsed = parse(input);
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      const issue = parsed.issues.find((candidate) => candidate.field === field);
      assert.ok(issue, `an issue at ${field}: ${parsed.reason}`);
      assert.match(issue.message, message);
      assert.match(parsed.reason, new RegExp(`${field.replace('.', '\\.')}: `));
    });
  }
});

describe('the rate-limited queue of a webhook', () => {
  it('is named prefix + 16 hex characters of (account, webhook): a valid, stable queue id', () => {
    const id = rateLimitedQueueId('hookshape-retries-rl-', 'acc_42', 'crm.calls:v2');
    assert.match(id, /^hookshape-retries-rl-[0-9a-f]{16}$/);
    assert.match(id, QUEUE_ID);
    assert.equal(rateLimitedQueueId('hookshape-retries-rl-', 'acc_42', 'crm.calls:v2'), id);
  });
  it('differs per webhook and per account (no a/bc = ab/c clash)', () => {
    const ids = new Set([rateLimitedQueueId('p-', 'a', 'bc'), rateLimitedQueueId('p-', 'ab', 'c'), rateLimitedQueueId('p-', 'a', 'bd'), rateLimitedQueueId('p-', 'b', 'bc')]);
    assert.equal(ids.size, 4);
  });
  it('stays within 100 characters of [A-Za-z0-9-] whatever the prefix', () => {
    for (const prefix of ['x'.repeat(150), 'bad_prefix.with:chars-']) {
      const id = rateLimitedQueueId(prefix, 'a', 'b');
      assert.ok(id.length <= 100, `${id.length} characters`);
      assert.match(id, QUEUE_ID);
    }
  });
  it('the prefix is <TASKS_QUEUE>-rl- unless TASKS_RATE_LIMITED_QUEUE_PREFIX says', () => {
    assert.equal(loadConfig({}).tasks.rateLimitedQueuePrefix, 'hookshape-retries-rl-');
    assert.equal(loadConfig({ TASKS_QUEUE: 'q1' }).tasks.rateLimitedQueuePrefix, 'q1-rl-');
    assert.equal(loadConfig({ TASKS_RATE_LIMITED_QUEUE_PREFIX: 'limited-' }).tasks.rateLimitedQueuePrefix, 'limited-');
  });

  const mappings = [
    { name: 'perSecond: 80 % of it, concurrency left at the default', input: { perSecond: 5 }, expected: { maxDispatchesPerSecond: 4, maxConcurrentDispatches: 1000 } },
    { name: 'perSecond 1', input: { perSecond: 1 }, expected: { maxDispatchesPerSecond: 0.8, maxConcurrentDispatches: 1000 } },
    { name: 'maxInFlight: the rate left at the default', input: { maxInFlight: 3 }, expected: { maxDispatchesPerSecond: 500, maxConcurrentDispatches: 3 } },
    { name: 'both', input: { perSecond: 500, maxInFlight: 10 }, expected: { maxDispatchesPerSecond: 400, maxConcurrentDispatches: 10 } },
  ];
  for (const { name, input, expected } of mappings) {
    it(`maps ${name}`, () => assert.deepEqual(queueRateLimits(input), expected));
  }
  it('compares a queue as Cloud Tasks reports it (nulls, float noise) with the limits wanted', () => {
    assert.equal(sameRateLimits({ maxDispatchesPerSecond: 4.0000000001, maxConcurrentDispatches: 1000 }, queueRateLimits({ perSecond: 5 })), true);
    assert.equal(sameRateLimits({ maxDispatchesPerSecond: 4, maxConcurrentDispatches: 2 }, queueRateLimits({ perSecond: 5 })), false);
    assert.equal(sameRateLimits(null, queueRateLimits({ perSecond: 5 })), false);
  });
});

describe('which queue the retry worker accepts a task from', () => {
  const deps = { queueName: 'hookshape-retries', rateLimitedQueuePrefix: 'hookshape-retries-rl-' };
  const task = { accountId: 'acc', webhookId: 'wh', eventId: 'e', attempt: 1 };
  it('the retry queue, for any task', () => assert.equal(fromAllowedQueue(deps, 'hookshape-retries', task), true));
  it("the task's own webhook's queue", () => assert.equal(fromAllowedQueue(deps, rateLimitedQueueId(deps.rateLimitedQueuePrefix, 'acc', 'wh'), task), true));
  it("not another webhook's queue", () => assert.equal(fromAllowedQueue(deps, rateLimitedQueueId(deps.rateLimitedQueuePrefix, 'acc', 'other'), task), false));
  it('not an unrelated queue', () => assert.equal(fromAllowedQueue(deps, 'other-queue', task), false));
});

describe('the state machine with a rate-limited webhook', () => {
  const limited = (world: World, rateLimit: Record<string, number> = { perSecond: 5 }) => world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { rateLimit }));

  it('the dispatcher sends nothing: the record is retrying with attempt 1 queued on the webhook queue; the worker sends it', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    limited(world, { perSecond: 5, maxInFlight: 2 });
    const published = await world.publish(event());
    assert.equal(published.acked, true);
    assert.equal(world.received('wh-a'), 0, 'not sent inline');
    const record = world.record('wh-a');
    assert.equal(record.status, 'retrying');
    assert.equal(record.next?.number, 1);
    assert.equal(record.inFlight, null);
    assert.equal(record.attempts.length, 0);
    assert.deepEqual(world.scheduler.tasks.map((task) => [task.task.attempt, task.rateLimit]), [[1, { perSecond: 5, maxInFlight: 2 }]]);
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    assert.equal(world.received('wh-a'), 1);
  });

  it('a 429 is retried on the same queue', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    limited(world);
    world.sender.respond = (_request, previous) => (previous === 0 ? response(429) : response(200));
    await world.publish(event());
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    assert.deepEqual(world.scheduler.tasks.map((task) => [task.task.attempt, task.rateLimit?.perSecond]), [[1, 5], [2, 5]]);
  });

  it('a retry overdue only because its queue is throttled is not taken over while its task is queued', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    limited(world);
    await world.publish(event());
    world.clock.advance(world.timing.overdueMs + 60_000);
    const sweep = await world.sweep();
    assert.equal(sweep.repaired, 0);
    assert.match(sweep.items[0]?.note ?? '', /still queued/);
    assert.equal(world.record('wh-a').takeovers ?? 0, 0);
    // The task is lost (Cloud Tasks is done with it without a result): now the sweep recovers it.
    world.scheduler.tasks[0]!.done = true;
    const again = await world.sweep();
    assert.equal(again.repaired, 1);
    assert.equal(world.record('wh-a').repairs, 1);
    assert.equal(world.scheduler.tasks[1]?.rateLimit?.perSecond, 5, 'the repaired task waits in the webhook queue too');
  });

  it('a backlog of queued retries larger than a page does not hide a lost one behind it: the sweep reads on', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    limited(world, { perSecond: 1 });
    // An import of 250 events on a 1/s webhook: 250 tasks queued, every record overdue after a while.
    for (let i = 0; i < 250; i++) {
      await world.publish(event(`evt-${String(i).padStart(3, '0')}`));
      world.clock.advance(10);
    }
    // The newest one's task was lost (Cloud Tasks is done with it without a result).
    world.scheduler.tasks.find((task) => task.task.eventId === 'evt-249')!.done = true;
    world.clock.advance(world.timing.overdueMs + 60_000);

    // One page of 100 (the sweep before it read on): only queued records, the lost one is never reached.
    const onePage = await repairDeliveries(world.deps(), { dryRun: false, limit: 100, pages: 1 }, silentLogger);
    assert.deepEqual([onePage.examined, onePage.repaired, onePage.stale, onePage.more], [100, 0, 0, true], 'queued retries are not stale: they have an owner');
    assert.equal(world.record('wh-a', 'evt-249').repairs ?? 0, 0);

    const sweep = await world.sweep();
    assert.deepEqual([sweep.pages, sweep.examined, sweep.repaired, sweep.stale, sweep.more], [3, 250, 1, 1, false]);
    assert.equal(world.record('wh-a', 'evt-249').repairs, 1, 'the lost one is re-enqueued');
    assert.equal(world.record('wh-a', 'evt-000').takeovers ?? 0, 0, 'the queued ones are left alone');
  });

  it('a queue that cannot be made (lasting) ends the delivery failed, recorded; the event is acknowledged', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    limited(world);
    world.faults.inject('scheduler.schedule', new RateLimitedQueueError("the webhook's rate-limited queue q could not be created: 8 RESOURCE_EXHAUSTED: quota", GrpcStatus.RESOURCE_EXHAUSTED));
    const published = await world.publish(event());
    assert.equal(published.acked, true);
    const record = world.record('wh-a');
    assert.equal(record.status, 'failed');
    assert.equal(record.errorCode, 'internal_error');
    assert.match(record.lastError ?? '', /rate-limited queue q could not be created/);
    assert.equal(world.received('wh-a'), 0);
  });

  it('a passing fault while enqueueing redelivers the event, and the redelivery enqueues it', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    limited(world);
    world.faults.inject('scheduler.schedule', Object.assign(new Error('14 UNAVAILABLE'), { code: GrpcStatus.UNAVAILABLE }));
    assert.equal((await world.publish(event())).acked, false);
    assert.equal((await world.publish(event())).acked, true);
    assert.equal(world.scheduler.tasks.length, 1);
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    assert.equal(world.received('wh-a'), 1);
  });
});
