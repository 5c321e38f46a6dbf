import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTEMPTS_BUDGET_BYTES, attemptsMade, boundAttempts, compactAttempts, MAX_KEPT_ATTEMPTS } from '../../functions/src/delivery/attempt-list.ts';
import { LOG_REQUEST_BODY_BYTES, LOG_RESPONSE_BODY_BYTES, type AttemptRecord } from '../../functions/src/delivery/delivery-record.ts';
import { MAX_KEPT_REPLAYS, startReplay, undoReplay } from '../../functions/src/delivery/transitions.ts';
import { MAX_EVENT_BYTES } from '../../functions/src/events/event-message.ts';
import { RENDER_LIMITS } from '../../functions/src/render/render-limits.ts';
import { MAX_RESPONSE_READ_BYTES, type SendResult } from '../../functions/src/send/http-sender.ts';
import { ACCOUNT, documentBytes, event, FIRESTORE_MAX_DOCUMENT_BYTES, webhookDocument, World } from './delivery-fakes.ts';

const sizeOf = (attempt: AttemptRecord) => Buffer.byteLength(JSON.stringify(attempt));

function attempt(number: number, padBytes = 0): AttemptRecord {
  return {
    number,
    target: 'primary',
    attemptOfTarget: 1,
    startedAt: new Date(Date.UTC(2026, 10, 23, 10, number)),
    durationMs: 40,
    request: { method: 'POST', url: 'https://receiver.example/x', headers: { 'X-Hook': 'a' }, body: 'r'.repeat(padBytes), bodyBytes: padBytes, bodyTruncated: false },
    response: { status: 500, headers: { 'content-type': 'text/plain' }, body: 'oops', bodyBytes: 4, bodyTruncated: false },
    error: null,
    outcome: 'retryable',
    summary: 'HTTP 500',
  };
}
const numbers = (attempts: readonly AttemptRecord[]) => attempts.map((entry) => entry.number);
const series = (from: number, count: number, padBytes = 0) => Array.from({ length: count }, (_, index) => attempt(from + index, padBytes));

describe('boundAttempts: the first attempt and the latest ones, the rest counted', () => {
  it('keeps a short list as it is', () => {
    assert.deepEqual(boundAttempts([], 0), { attempts: [], attemptsDropped: 0 });
    const list = series(1, MAX_KEPT_ATTEMPTS);
    assert.deepEqual(boundAttempts(list, 0), { attempts: list, attemptsDropped: 0 });
    assert.deepEqual(boundAttempts(list, 7).attemptsDropped, 7, 'earlier drops are carried');
  });

  it(`one over MAX_KEPT_ATTEMPTS (${MAX_KEPT_ATTEMPTS}) drops the oldest after the first`, () => {
    const { attempts, attemptsDropped } = boundAttempts(series(1, MAX_KEPT_ATTEMPTS + 1), 0);
    assert.deepEqual(numbers(attempts), [1, ...Array.from({ length: MAX_KEPT_ATTEMPTS - 1 }, (_, index) => index + 3)]);
    assert.equal(attemptsDropped, 1);
  });

  it('a long list keeps the first and the last MAX_KEPT_ATTEMPTS - 1, and adds the drops to the count', () => {
    const { attempts, attemptsDropped } = boundAttempts([attempt(1), ...series(10, 29)], 8);
    assert.equal(attempts.length, MAX_KEPT_ATTEMPTS);
    assert.equal(attempts[0]!.number, 1);
    assert.equal(attempts.at(-1)!.number, 38);
    assert.equal(attemptsDropped, 8 + 30 - MAX_KEPT_ATTEMPTS);
    assert.equal(attemptsMade({ attempts, attemptsDropped }), 38);
  });

  it(`keeps the stored attempts within ATTEMPTS_BUDGET_BYTES (${ATTEMPTS_BUDGET_BYTES})`, () => {
    const big = series(1, 6, 150 * 1024);
    const { attempts, attemptsDropped } = boundAttempts(big, 0);
    const total = attempts.reduce((sum, entry) => sum + sizeOf(entry), 0);
    assert.ok(total <= ATTEMPTS_BUDGET_BYTES, `${total} bytes`);
    assert.deepEqual(numbers(attempts), [1, 5, 6]);
    assert.equal(attemptsDropped, 3);
  });

  it('never drops the first or the last, even when the two alone are over the budget', () => {
    const huge = series(1, 3, ATTEMPTS_BUDGET_BYTES);
    const { attempts, attemptsDropped } = boundAttempts(huge, 0);
    assert.deepEqual(numbers(attempts), [1, 3]);
    assert.equal(attemptsDropped, 1);
    assert.deepEqual(numbers(boundAttempts(huge.slice(0, 2), 0).attempts), [1, 2]);
    assert.deepEqual(numbers(boundAttempts(huge.slice(0, 1), 0).attempts), [1]);
  });

  it('does not change the list it is given', () => {
    const list = series(1, 20);
    const copy = structuredClone(list);
    boundAttempts(list, 0);
    assert.deepEqual(list, copy);
  });
});

describe('compactAttempts: what is written when the full record could not be', () => {
  it('drops bodies and headers, keeps statuses, sizes and outcomes', () => {
    const [compact] = compactAttempts([attempt(1, 10)]);
    assert.deepEqual(compact!.request, { method: 'POST', url: 'https://receiver.example/x', headers: {}, body: null, bodyBytes: 10, bodyTruncated: true });
    assert.deepEqual(compact!.response, { status: 500, headers: {}, body: null, bodyBytes: 4, bodyTruncated: true });
    assert.equal(compact!.outcome, 'retryable');
    const empty = compactAttempts([{ ...attempt(2), request: null, response: null }]);
    assert.equal(empty[0]!.request, null);
    assert.equal(empty[0]!.response, null);
    assert.equal(compactAttempts([{ ...attempt(3, 0) }])[0]!.request?.bodyTruncated, false, 'an empty body was not cut');
  });
});

// ---------------------------------------------------------------------------------------------------

/** Node's default --max-http-header-size: what a receiver on Node accepts, and what our client reads. */
const NODE_MAX_HEADER_BYTES = 16 * 1024;
/** `bytes` of UTF-8 text that is larger in JSON than as UTF-8 (quotes, backslashes) and multi-byte. */
const dense = (bytes: number) => {
  const unit = '{"k":"é€\\😀"},';
  const units = Math.floor(bytes / Buffer.byteLength(unit));
  return unit.repeat(units) + 'x'.repeat(bytes - units * Buffer.byteLength(unit));
};

/** A webhook whose every request is as large as the delivery log records: URL, headers, body. */
function maximalWorld(): World {
  const world = new World({ webhooks: ['wh-a'] });
  const base = 'https://receiver.example/hooks/wh-a/evt-1?pad=';
  const headerValue = 'h'.repeat(NODE_MAX_HEADER_BYTES / 2 - 200);
  world.webhooks.set(
    ACCOUNT,
    'wh-a',
    webhookDocument('wh-a', {
      url: `https://receiver.example/hooks/wh-a/{{ event.id }}?pad=${'p'.repeat(RENDER_LIMITS.urlChars - base.length)}`,
      headers: { 'X-Pad-1': headerValue, 'X-Pad-2': headerValue },
      body: '{{ data | json }}',
    }),
  );
  const responseHeaders = Object.fromEntries(Array.from({ length: 4 }, (_, index) => [`x-echo-${index}`, 'e'.repeat(NODE_MAX_HEADER_BYTES / 4 - 20)]));
  world.sender.respond = (_request, previous): SendResult => ({
    kind: 'response',
    // Final either way, so each replay is one attempt: a 200, then a 404, and so on.
    status: previous % 2 === 0 ? 200 : 404,
    headers: responseHeaders,
    body: Buffer.from(dense(MAX_RESPONSE_READ_BYTES)),
    truncated: true,
    durationMs: 40,
  });
  return world;
}

/** An event as large as a message may be, its text dense too (the request body renders it as JSON). */
function maximalEvent() {
  const limit = MAX_EVENT_BYTES - 64;
  let room = limit;
  let big = event('evt-1', { blob: dense(room) });
  for (let bytes = Buffer.byteLength(JSON.stringify(big)); bytes > limit; bytes = Buffer.byteLength(JSON.stringify(big))) {
    room -= Math.ceil((bytes - limit) / 2);
    big = event('evt-1', { blob: dense(room) });
  }
  assert.ok(Buffer.byteLength(JSON.stringify(big)) > MAX_EVENT_BYTES - 1024);
  return big;
}

describe('records stay writable: 50 replays with maximal bodies', () => {
  it('the stored record stays under 1 MiB at every step, keeps the first attempt and counts the dropped', async () => {
    const world = maximalWorld();
    const key = world.key('wh-a');
    const published = await world.publish(maximalEvent());
    assert.equal(published.acked, true);
    const first = world.record('wh-a');
    assert.equal(first.status, 'succeeded');
    const original = first.attempts[0]!;
    // The attempt is as large as the log keeps: bodies at their limits, maximal URL and headers.
    assert.equal(original.request!.bodyBytes > LOG_REQUEST_BODY_BYTES, true);
    assert.ok(Buffer.byteLength(original.request!.body!) > LOG_REQUEST_BODY_BYTES - 4);
    assert.ok(Buffer.byteLength(original.response!.body!) > LOG_RESPONSE_BODY_BYTES - 4);
    assert.equal(original.request!.url.length, RENDER_LIMITS.urlChars);
    assert.ok(sizeOf(original) > 64 * 1024, `one attempt is ${sizeOf(original)} bytes`);

    let largest = 0;
    // One delivery in this world: the last document written is its record (measured as it was written).
    world.deliveries.contentionRuns = 0;
    const check = (step: string) => {
      const stored = world.record('wh-a');
      const bytes = world.deliveries.writtenBytes.at(-1)!;
      largest = Math.max(largest, bytes);
      assert.ok(bytes < FIRESTORE_MAX_DOCUMENT_BYTES, `${step}: the record is ${bytes} bytes`);
      assert.deepEqual(stored.attempts[0], original, `${step}: the first attempt is kept`);
      return stored;
    };
    for (let replay = 1; replay <= 50; replay += 1) {
      world.clock.advance(60_000);
      const now = world.clock.now();
      const start = await world.deliveries.modify(key, startReplay(now, world.timing));
      assert.ok(start.started, `replay ${replay} starts`);
      assert.deepEqual(start.next, { number: replay + 1, target: 'primary', attemptOfTarget: 1, series: replay });
      const started = check(`replay ${replay} started`);
      assert.equal(started.status, 'retrying');
      // As `hookshape replay` does: the task of the new series, due now.
      await world.scheduler.schedule({ ...key, attempt: start.next.number, series: start.next.series }, now);
      await world.drainTasks();
      const stored = check(`replay ${replay} attempted`);
      assert.equal(stored.status, replay % 2 === 0 ? 'succeeded' : 'failed', `replay ${replay}: ${stored.lastError}`);
      assert.notEqual(stored.errorCode, 'internal_error');
      assert.equal(stored.attempts.at(-1)!.number, replay + 1, 'the latest attempt is kept');
      assert.ok(stored.attempts.length <= MAX_KEPT_ATTEMPTS);
      assert.equal(stored.attemptsDropped ?? 0, replay + 1 - stored.attempts.length, 'every attempt is kept or counted');
      assert.equal(stored.replays!.length, Math.min(replay, MAX_KEPT_REPLAYS));
      assert.equal(stored.replaysDropped ?? 0, Math.max(0, replay - MAX_KEPT_REPLAYS));
    }
    for (const bytes of world.deliveries.writtenBytes) assert.ok(bytes < FIRESTORE_MAX_DOCUMENT_BYTES);
    assert.equal(documentBytes(world.record('wh-a')), world.deliveries.writtenBytes.at(-1));
    assert.ok(largest > 700 * 1024, `the test comes near the limit (largest record ${largest} bytes)`);
    assert.equal(world.received('wh-a'), 51);
    const final = world.record('wh-a');
    assert.ok((final.attemptsDropped ?? 0) > 30);
  });
});

describe('startReplay and undoReplay', () => {
  const NOW = new Date('2026-11-23T12:00:00Z');
  const TIMING = { leaseMs: 90_000, overdueMs: 600_000 };
  const base = async () => {
    const world = new World({ webhooks: ['wh-a'] });
    await world.publish();
    return world.record('wh-a');
  };

  it('refuses a live delivery and says why, accepts a stale one', async () => {
    const done = await base();
    const live = { ...done, status: 'pending' as const, inFlight: { number: 1, target: 'primary' as const, attemptOfTarget: 1, since: new Date(NOW.getTime() - 1_000) }, attempts: [] };
    const refused = startReplay(NOW, TIMING)(live);
    assert.equal(refused.result.started, false);
    assert.match(!refused.result.started ? refused.result.reason : '', /it is pending: attempt 1 is in flight .*; already being delivered/);
    assert.equal(refused.write, undefined);
    const stale = { ...live, inFlight: { ...live.inFlight, since: new Date(NOW.getTime() - TIMING.leaseMs) } };
    const accepted = startReplay(NOW, TIMING)(stale);
    assert.ok(accepted.result.started);
    assert.deepEqual(accepted.write!.attempts!.map((entry) => entry.outcome), ['unknown'], 'the lost attempt is recorded first');
    assert.deepEqual(accepted.result.next, { number: 2, target: 'primary', attemptOfTarget: 1, series: 1 });
    assert.equal(startReplay(NOW, TIMING)(undefined).result.started, false);
  });

  it('undoReplay puts back a replay whose task could not be enqueued, unless its attempt ran', async () => {
    const done = await base();
    const start = startReplay(NOW, TIMING)(done);
    assert.ok(start.result.started);
    const replaying = { ...done, ...start.write } as typeof done;
    const undo = undoReplay(1, NOW)(replaying);
    assert.equal(undo.result, true);
    assert.equal(undo.write!.status, 'succeeded');
    assert.deepEqual(undo.write!.replays, []);
    assert.equal(undoReplay(2, NOW)(replaying).result, false, 'another series');
    assert.equal(undoReplay(1, NOW)({ ...replaying, attempts: [...replaying.attempts, replaying.attempts[0]!] }).result, false, 'its attempt ran');
    assert.equal(undoReplay(1, NOW)({ ...replaying, inFlight: { number: 2, target: 'primary', attemptOfTarget: 1, series: 1, since: NOW } }).result, false, 'its attempt is running');
  });

  it('a replay keeps the record its retention period from the replay, so the TTL does not delete it mid-series', async () => {
    const done = await base();
    const createdAt = new Date(NOW.getTime() - 29.9 * 86_400_000);
    const old = { ...done, createdAt, expiresAt: new Date(createdAt.getTime() + 30 * 86_400_000) };
    const start = startReplay(NOW, TIMING)(old);
    assert.ok(start.result.started);
    assert.deepEqual(start.write!.expiresAt, new Date(NOW.getTime() + 30 * 86_400_000));
    // A fresh record keeps its own: a replay never shortens it.
    const fresh = { ...done, createdAt: NOW, expiresAt: new Date(NOW.getTime() + 30 * 86_400_000) };
    assert.equal(startReplay(NOW, TIMING)(fresh).write!.expiresAt, undefined);
  });

  it('undoReplay leaves the replay of a stale pending or retrying record: put back, no sweep would find it', async () => {
    const done = await base();
    for (const status of ['pending', 'retrying'] as const) {
      const stale = { ...done, status, inFlight: null, next: { number: 2, target: 'primary' as const, attemptOfTarget: 2 }, nextAttemptAt: new Date(NOW.getTime() - 3_600_000), updatedAt: new Date(NOW.getTime() - 3_600_000) };
      const start = startReplay(NOW, TIMING)(stale);
      assert.ok(start.result.started, `a stale ${status} record is replayed`);
      const replaying = { ...stale, ...start.write } as typeof done;
      const undo = undoReplay(1, NOW)(replaying);
      assert.equal(undo.result, false, `${status}: not put back`);
      assert.equal(undo.write, undefined);
      // What stays is what the sweep's overdue query returns once the overdue period passes.
      assert.equal(replaying.status, 'retrying');
      assert.ok(replaying.next && replaying.nextAttemptAt instanceof Date);
    }
  });
});
