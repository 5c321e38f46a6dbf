/**
 * Assertions shared by the fault-injection tests (delivery-faults.test.ts): what "ended by a lasting
 * fault" and "finished after a passing one" mean, checked the same way at every fault point.
 */
import assert from 'node:assert/strict';
import { classifyFailure, type ErrorCode } from '../../functions/src/core/failures.ts';
import { hasEnded, type AttemptRecord } from '../../functions/src/delivery/delivery-record.ts';
import type { StoredDelivery } from '../../functions/src/delivery/ports.ts';
import type { SendResult } from '../../functions/src/send/http-sender.ts';
import { bugError, forWebhook, lastingError, response, transientError, World, type FaultOptions, type FaultPoint } from './delivery-fakes.ts';

export type Outcome = AttemptRecord['outcome'];
export const SIBLINGS = ['wh-b', 'wh-c'];
export const LASTING_KINDS = [
  { kind: 'lasting (PERMISSION_DENIED)', error: () => lastingError() },
  { kind: 'lasting (a bug)', error: () => bugError() },
] as const;

export const outcomes = (record: StoredDelivery): Outcome[] => record.attempts.map((attempt) => attempt.outcome);
export const isFinal = (record: StoredDelivery) => hasEnded(record.status);

/** wh-a answers from this list, by how many requests its delivery had before (the last repeats). */
export function script(world: World, answers: readonly SendResult[], webhookId = 'wh-a'): void {
  world.sender.respond = (request, previous) => {
    if (!new URL(request.url).pathname.startsWith(`/hooks/${webhookId}/`)) return response(200);
    return answers[Math.min(previous, answers.length - 1)] ?? response(200);
  };
}

export function assertSiblingsDelivered(world: World): void {
  for (const id of SIBLINGS) {
    const record = world.record(id);
    assert.equal(record.status, 'succeeded', `sibling ${id}: ${record.lastError}`);
    assert.deepEqual(outcomes(record), ['succeeded'], `sibling ${id}`);
    assert.equal(world.received(id), 1, `sibling ${id} was sent once`);
  }
}

/** A lasting fault ended the delivery: final, coded, without a stack; the stack is in the log. */
export function assertEndedByLastingFault(world: World, webhookId: string, expected: { status: 'failed' | 'succeeded'; errorCode: ErrorCode | null; stage?: RegExp }): StoredDelivery {
  const record = world.record(webhookId);
  assert.equal(record.status, expected.status, `status of ${webhookId} (lastError: ${record.lastError})`);
  assert.equal(record.errorCode, expected.errorCode);
  assert.equal(record.inFlight, null, 'nothing left in flight');
  assert.equal(record.next, null);
  assert.equal(record.nextAttemptAt, null);
  const json = JSON.stringify(record);
  assert.doesNotMatch(json, / {4}at /, 'no stack in the record');
  assert.ok(!json.includes('delivery-fakes.ts'), 'no stack frame in the record');
  if (expected.status === 'failed') {
    assert.match(record.lastError ?? '', expected.stage ?? /internal error while /);
    assert.match(record.lastError ?? '', /log has the details/);
  } else {
    assert.equal(record.lastError, null);
  }
  const fault = world.faults.thrown.find((thrown) => classifyFailure(thrown.error) === 'internal');
  assert.ok(fault, 'a lasting fault was thrown');
  const stack = (fault.error as Error).stack!;
  assert.match(stack, / {4}at /);
  assert.ok(
    world.logger.entries.some((entry) => entry.stack === stack && entry.severity === 'ERROR'),
    `the stack is in the log:\n${world.logger.entries.map((entry) => `${entry.severity} ${entry.message}`).join('\n')}`,
  );
  return record;
}

/** Later redeliveries, tasks and sweeps change nothing and send nothing. */
export async function assertStaysEnded(world: World, webhookId: string): Promise<void> {
  const before = world.record(webhookId);
  const sent = world.sender.requests.length;
  await world.drainTasks();
  const again = await world.redeliverAfterLease();
  assert.equal(again.acked, true);
  world.clock.advance(world.timing.overdueMs + 60_000);
  await world.sweep();
  await world.drainTasks();
  assert.equal(world.sender.requests.length, sent, 'nothing is sent again');
  assert.deepEqual(world.record(webhookId), before, 'the record is not changed again');
}

/** A passing fault is over: the delivery finishes with one success, no duplicate after it. */
export function assertFinishedAfterRecovery(world: World, webhookId: string, baseline: number): StoredDelivery {
  const record = world.record(webhookId);
  assert.equal(record.status, 'succeeded', `${webhookId}: ${record.lastError} (${outcomes(record).join(', ')})`);
  assert.equal(record.errorCode, null);
  assert.equal(record.inFlight, null);
  assert.equal(outcomes(record).filter((outcome) => outcome === 'succeeded').length, 1, 'one success recorded');
  assert.ok(outcomes(record).filter((outcome) => outcome === 'unknown').length <= 1, `at most one takeover: ${outcomes(record).join(', ')}`);
  assert.deepEqual(world.sentAfterRecorded2xx, [], 'no send after a recorded 2xx');
  const received = world.received(webhookId);
  assert.ok(received >= 1 && received <= baseline + 1, `${received} request(s) for ${baseline} without the fault: at most one unknown-outcome re-send`);
  assert.equal(world.scheduler.pending().length, 0, 'no task left');
  return record;
}

/** What the scenario sends without any fault (the receiver-side baseline). */
export async function baselineOf(arrange: (world: World) => void): Promise<number> {
  const world = new World();
  arrange(world);
  const published = await world.publish();
  assert.equal(published.acked, true);
  await world.drainTasks();
  assert.equal(world.record('wh-a').status, 'succeeded', 'the scenario succeeds without faults');
  return world.received('wh-a');
}

export async function recoverByRedelivery(world: World): Promise<void> {
  const again = await world.redeliverAfterLease();
  assert.equal(again.acked, true, `the redelivery is acknowledged: ${again.acked ? '' : String(again.error)}`);
  await world.drainTasks();
}

/** No Pub/Sub redelivery (dead-lettered): only the repair sweep moves the delivery on. */
export async function recoverBySweep(world: World): Promise<void> {
  world.clock.advance(world.timing.leaseMs + world.timing.overdueMs + 5 * 60_000);
  const summary = await world.sweep();
  assert.equal(summary.errors, 0);
  await world.drainTasks();
}

/** `engine.render` faults for one webhook's templates (the arguments are field, context). */
export const renderOf = (webhookId: string) => (args: readonly unknown[]) => (args[1] as { webhook?: { id?: string } }).webhook?.id === webhookId;

export interface WorkerCase {
  name: string;
  point: FaultPoint;
  /** wh-a's answers: the first is the dispatcher's attempt (a 500, so a retry is scheduled). */
  answers: SendResult[];
  options?: FaultOptions;
  /** Absent: see the file named in the case. */
  lasting?: { status: 'failed' | 'succeeded'; errorCode: ErrorCode | null; attempts: Outcome[]; received: number; stage?: RegExp };
  transient: { attempts: Outcome[] };
}

/** The dispatcher's attempt got a 500: wh-a is retrying with attempt 2's task enqueued. */
export async function retryingWorld(answers: SendResult[]): Promise<World> {
  const world = new World();
  script(world, answers);
  const published = await world.publish();
  assert.equal(published.acked, true);
  assert.equal(world.record('wh-a').status, 'retrying');
  assert.equal(world.scheduler.pending().length, 1);
  return world;
}

/** A lasting fault at the case's point in the retry worker: a 2xx answer, the delivery ended. */
export async function checkWorkerLastingFault(testCase: WorkerCase, error: () => unknown): Promise<void> {
  const expected = testCase.lasting;
  assert.ok(expected, 'the case says how a lasting fault ends');
  const world = await retryingWorld(testCase.answers);
  world.faults.inject(testCase.point, error, { when: forWebhook('wh-a'), ...testCase.options });
  const run = await world.runNextTask();
  assert.equal(world.faults.thrown.length, 1, 'the fault fired');
  assert.equal(run?.error, undefined, `the worker does not throw a lasting fault: ${String(run?.error)}`);
  assert.equal(run?.answer?.httpStatus, 200);
  const record = assertEndedByLastingFault(world, 'wh-a', expected);
  assert.deepEqual(outcomes(record), expected.attempts);
  assert.equal(world.received('wh-a'), expected.received);
  await assertStaysEnded(world, 'wh-a');
  assertSiblingsDelivered(world);
}

/** A passing fault at the case's point: the worker throws (503), and Cloud Tasks' re-runs finish it. */
export async function checkWorkerTransientFault(testCase: WorkerCase): Promise<void> {
  const baseline = (await retryingWorld(testCase.answers)).received('wh-a') + testCase.answers.length - 1;
  const world = await retryingWorld(testCase.answers);
  world.faults.inject(testCase.point, () => transientError(), { when: forWebhook('wh-a'), ...testCase.options });
  const run = await world.runNextTask();
  assert.ok(run?.error, 'the worker throws');
  assert.equal(classifyFailure(run.error), 'transient');
  assert.notEqual(world.record('wh-a').status, 'failed');
  await world.drainTasks();
  const record = assertFinishedAfterRecovery(world, 'wh-a', baseline);
  assert.deepEqual(outcomes(record), testCase.transient.attempts);
  assertSiblingsDelivered(world);
}
