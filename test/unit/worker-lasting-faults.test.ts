/**
 * Found by the fault-injection tests and fixed since:
 * 1. A lasting fault while the worker reads the record or claims the attempt ends the delivery
 *    (`failed`, `internal_error`, attempts kept) instead of escaping with a 200 and leaving it retrying.
 * 2. Logged headers and URLs are bounded, so large headers never make a record over Firestore's 1 MiB.
 * 3. A replay of a stale record with a legacy in-flight attempt ({ attempt, since }) records it as
 *    unknown and numbers the replay after it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startReplay } from '../../functions/src/delivery/transitions.ts';
import { checkWorkerLastingFault, LASTING_KINDS, type WorkerCase } from './delivery-checks.ts';
import { ACCOUNT, documentBytes, event, FIRESTORE_MAX_DOCUMENT_BYTES, response, webhookDocument, World } from './delivery-fakes.ts';

const CASES: WorkerCase[] = [
  {
    name: 'reading the delivery',
    point: 'deliveries.get',
    answers: [response(500), response(200)],
    lasting: { status: 'failed', errorCode: 'internal_error', attempts: ['retryable'], received: 1 },
    transient: { attempts: ['retryable', 'succeeded'] },
  },
  {
    name: 'claiming the attempt',
    point: 'deliveries.modify',
    answers: [response(500), response(200)],
    lasting: { status: 'failed', errorCode: 'internal_error', attempts: ['retryable'], received: 1 },
    transient: { attempts: ['retryable', 'succeeded'] },
  },
];

describe('retry worker: a lasting fault before its try block', () => {
  for (const testCase of CASES) {
    describe(testCase.name, () => {
      for (const { kind, error } of LASTING_KINDS) {
        it(`${kind}: answers 2xx and ends the delivery failed (internal_error)`, () => checkWorkerLastingFault(testCase, error));
      }
    });
  }
});

describe('records stay writable whatever the request headers', () => {
  it('a webhook with many large headers (each within RENDER_LIMITS.headerValueChars) still retries and succeeds', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    // 70 short header templates, each rendering the same 8000 characters of event data (an 8 KiB event).
    const headers = Object.fromEntries(Array.from({ length: 70 }, (_, index) => [`X-Part-${index}`, '{{ data.pad }}']));
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { headers }));
    world.sender.respond = (_request, previous) => (previous < 2 ? response(500) : response(200));
    const published = await world.publish(event('evt-1', { pad: 'h'.repeat(8000) }));
    assert.equal(published.acked, true);
    await world.drainTasks();
    const record = world.record('wh-a');
    assert.equal(record.status, 'succeeded', `${record.status} ${record.errorCode}: ${record.lastError}`);
    assert.equal(world.received('wh-a'), 3);
    assert.equal(record.attempts[0]!.number, 1);
    assert.equal(record.attempts.at(-1)!.outcome, 'succeeded');
    for (const bytes of world.deliveries.writtenBytes) assert.ok(bytes < FIRESTORE_MAX_DOCUMENT_BYTES);
    assert.ok(documentBytes(record) < FIRESTORE_MAX_DOCUMENT_BYTES);
  });
});

describe('replaying a stale record with a legacy in-flight attempt', () => {
  it('records the lost attempt as unknown first, as for the current shape, and numbers the replay after it', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    await world.publish();
    const done = world.record('wh-a');
    const legacy = { ...done, status: 'retrying' as const, inFlight: { attempt: 2, since: done.updatedAt }, next: { number: 2, target: 'primary' as const, attemptOfTarget: 2 }, nextAttemptAt: done.updatedAt };
    const now = new Date(done.updatedAt.getTime() + world.timing.leaseMs + world.timing.overdueMs);
    const start = startReplay(now, world.timing)(legacy);
    assert.ok(start.result.started);
    assert.deepEqual(start.write!.attempts!.map((attempt) => `${attempt.number} ${attempt.outcome}`), ['1 succeeded', '2 unknown']);
    assert.equal(start.result.next.number, 3);
  });
});

describe('a duplicate task of an attempt already handled, when re-enqueueing the next attempt fails for good', () => {
  it('answers 2xx and leaves the delivery as it is (retrying, its next attempt planned): it never ends it blindly', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.sender.respond = (_request, previous) => (previous < 2 ? response(500) : response(200));
    await world.publish(event());
    const first = world.scheduler.pending()[0]!;
    await world.runNextTask(); // attempt 2: 500, attempt 3 enqueued
    const before = world.record('wh-a');
    assert.equal(before.status, 'retrying');
    assert.equal(before.next?.number, 3);
    // Attempt 2's task comes again (Cloud Tasks delivers at least once) while the enqueue path fails for good.
    world.faults.inject('scheduler.schedule', Object.assign(new Error("7 PERMISSION_DENIED: the webhook's rate-limited queue"), { code: 7 }));
    const answer = await world.runTask(first.task);
    assert.equal(answer.httpStatus, 200);
    assert.match(answer.note, /already handled/);
    const after = world.record('wh-a');
    assert.equal(after.status, 'retrying', 'not ended failed/internal_error');
    assert.equal(after.next?.number, 3);
    assert.ok(world.logger.entries.some((entry) => entry.severity === 'ERROR' && /re-enqueueing the delivery's next attempt failed/.test(entry.message)));
    // The third attempt's own task still runs and delivers.
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
  });
});

describe('a lasting fault reading a delivery that has ended meanwhile', () => {
  it('leaves its end as it is (succeeded stays succeeded): the worker ends only a delivery not ended yet', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.sender.respond = (_request, previous) => (previous < 1 ? response(500) : response(200));
    await world.publish(event());
    const second = world.scheduler.pending()[0]!;
    await world.drainTasks();
    const done = world.record('wh-a');
    assert.equal(done.status, 'succeeded');
    // Attempt 2's task comes again (at least once), and reading the record now fails for a lasting reason.
    world.faults.inject('deliveries.get', new TypeError('cannot read properties of undefined (a bug)'));
    const answer = await world.runTask(second.task);
    assert.equal(answer.httpStatus, 200);
    assert.match(answer.note, /the delivery had ended/);
    assert.deepEqual(world.record('wh-a'), done, 'the succeeded record is not overwritten failed/internal_error');
    assert.ok(world.logger.entries.some((entry) => entry.severity === 'WARNING' && /was not ended: it is gone, or it had ended meanwhile/.test(entry.message)));
  });
});
