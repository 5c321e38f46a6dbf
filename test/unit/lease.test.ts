import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttemptRecord } from '../../functions/src/delivery/delivery-record.ts';
import { MAX_KEPT_ATTEMPTS } from '../../functions/src/delivery/attempt-list.ts';
import { CLAIM_LEASE_MS, DEFAULT_LEASE_TIMING, DEFAULT_RETRY_OVERDUE_MS, MAX_TAKEOVERS, pendingDelivery, staleness } from '../../functions/src/delivery/lease.ts';
import type { StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { recoverStale } from '../../functions/src/delivery/recover.ts';
import { claimAttempt, takeOver } from '../../functions/src/delivery/transitions.ts';
import { event } from './delivery-fakes.ts';

const NOW = new Date('2026-11-23T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const later = (ms: number) => new Date(NOW.getTime() + ms);
const SETTINGS = { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 };

function attempt(number: number, outcome: AttemptRecord['outcome'], fields: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    number,
    target: 'primary',
    attemptOfTarget: number,
    startedAt: ago(3_600_000),
    durationMs: 40,
    request: { method: 'POST', url: 'https://receiver.example/hooks/wh-a/evt-1', headers: {}, body: '{}', bodyBytes: 2, bodyTruncated: false },
    response: outcome === 'unknown' ? null : { status: outcome === 'succeeded' ? 200 : 500, headers: {}, body: '', bodyBytes: 0, bodyTruncated: false },
    error: null,
    outcome,
    summary: outcome === 'succeeded' ? 'HTTP 200' : 'HTTP 500',
    ...fields,
  };
}

function record(fields: Partial<StoredDelivery>): StoredDelivery {
  return { ...pendingDelivery(event(), 'wh-a', 'Hook wh-a', ago(3_600_000), 30), inFlight: null, ...fields };
}

const retrying = (fields: Partial<StoredDelivery> = {}) =>
  record({ status: 'retrying', attempts: [attempt(1, 'retryable')], next: { number: 2, target: 'primary', attemptOfTarget: 2 }, nextAttemptAt: later(30_000), updatedAt: ago(30_000), lastError: 'HTTP 500', ...fields });

describe('staleness: whether a record that is not final has a live owner', () => {
  const cases: Array<{ name: string; record: StoredDelivery; stale: boolean; reason: RegExp }> = [
    { name: 'pending, claimed a moment ago (attempt 1 in flight)', record: record({ updatedAt: ago(1_000), inFlight: { number: 1, target: 'primary', attemptOfTarget: 1, since: ago(1_000) } }), stale: false, reason: /attempt 1 is in flight/ },
    { name: 'pending, in flight one ms short of the lease', record: record({ updatedAt: ago(CLAIM_LEASE_MS - 1), inFlight: { number: 1, target: 'primary', attemptOfTarget: 1, since: ago(CLAIM_LEASE_MS - 1) } }), stale: false, reason: /in flight/ },
    { name: 'pending, in flight for exactly the lease', record: record({ updatedAt: ago(CLAIM_LEASE_MS), inFlight: { number: 1, target: 'primary', attemptOfTarget: 1, since: ago(CLAIM_LEASE_MS) } }), stale: true, reason: /attempt 1 has been in flight since .* without a result/ },
    { name: 'pending without an attempt in flight, fresh', record: record({ updatedAt: ago(5_000) }), stale: false, reason: /being delivered/ },
    { name: 'pending without an attempt in flight, past the lease', record: record({ updatedAt: ago(CLAIM_LEASE_MS + 1) }), stale: true, reason: /pending since .* with no owner/ },
    { name: 'retrying, attempt 2 in flight, fresh', record: retrying({ inFlight: { number: 2, target: 'primary', attemptOfTarget: 2, since: ago(10_000) } }), stale: false, reason: /attempt 2 is in flight/ },
    { name: 'retrying, attempt 2 in flight past the lease', record: retrying({ inFlight: { number: 2, target: 'primary', attemptOfTarget: 2, since: ago(CLAIM_LEASE_MS + 5_000) } }), stale: true, reason: /attempt 2 has been in flight/ },
    { name: 'retrying, next attempt due later', record: retrying(), stale: false, reason: /next attempt is due at/ },
    { name: 'retrying, next attempt just due (Cloud Tasks runs it now)', record: retrying({ nextAttemptAt: ago(1_000) }), stale: false, reason: /next attempt is due at/ },
    { name: 'retrying, next attempt late but within the overdue allowance', record: retrying({ nextAttemptAt: ago(DEFAULT_RETRY_OVERDUE_MS - 1) }), stale: false, reason: /due at/ },
    { name: 'retrying, next attempt overdue', record: retrying({ nextAttemptAt: ago(DEFAULT_RETRY_OVERDUE_MS) }), stale: true, reason: /was due at .* and has not run/ },
    { name: 'retrying without a next attempt time', record: retrying({ nextAttemptAt: null }), stale: true, reason: /retrying without a next attempt/ },
    { name: 'legacy in flight { attempt, since }, fresh', record: retrying({ inFlight: { attempt: 2, since: ago(1_000) } }), stale: false, reason: /attempt 2 is in flight/ },
    { name: 'legacy in flight { attempt, since }, past the lease', record: retrying({ inFlight: { attempt: 2, since: ago(CLAIM_LEASE_MS) } }), stale: true, reason: /attempt 2 has been in flight/ },
    { name: 'an attempt in flight decides, not an overdue retry time', record: retrying({ nextAttemptAt: ago(DEFAULT_RETRY_OVERDUE_MS * 2), inFlight: { number: 2, target: 'primary', attemptOfTarget: 2, since: ago(1_000) } }), stale: false, reason: /in flight/ },
    { name: 'succeeded is final', record: record({ status: 'succeeded', updatedAt: ago(86_400_000) }), stale: false, reason: /it is succeeded/ },
    { name: 'failed is final, even with an attempt left in flight', record: record({ status: 'failed', inFlight: { number: 1, target: 'primary', attemptOfTarget: 1, since: ago(86_400_000) } }), stale: false, reason: /it is failed/ },
    { name: 'invalid is final', record: record({ status: 'invalid' }), stale: false, reason: /it is invalid/ },
  ];
  for (const { name, record: stored, stale, reason } of cases) {
    it(`${name}: ${stale ? 'stale' : 'live'}`, () => {
      const result = staleness(stored, NOW);
      assert.equal(result.stale, stale, result.reason);
      assert.match(result.reason, reason);
    });
  }

  it('uses the timing it is given (tests, DELIVERY_LEASE_SECONDS, RETRY_OVERDUE_SECONDS)', () => {
    const timing = { leaseMs: 5_000, overdueMs: 10_000 };
    assert.equal(staleness(record({ updatedAt: ago(5_000) }), NOW, timing).stale, true);
    assert.equal(staleness(record({ updatedAt: ago(4_999) }), NOW, timing).stale, false);
    assert.equal(staleness(retrying({ nextAttemptAt: ago(10_000) }), NOW, timing).stale, true);
    assert.equal(staleness(retrying({ nextAttemptAt: ago(9_999) }), NOW, timing).stale, false);
    assert.deepEqual(DEFAULT_LEASE_TIMING, { leaseMs: CLAIM_LEASE_MS, overdueMs: DEFAULT_RETRY_OVERDUE_MS });
  });

  it('a new record is claimed with its first attempt in flight, so a crash right after leaves a trace', () => {
    const fresh = pendingDelivery(event(), 'wh-a', null, NOW, 30);
    assert.deepEqual(fresh.inFlight, { number: 1, target: 'primary', attemptOfTarget: 1, since: NOW });
    assert.equal(staleness(fresh, NOW).stale, false);
    assert.equal(staleness(fresh, later(CLAIM_LEASE_MS)).stale, true);
  });
});

describe('recoverStale: a delivery that lost its owner moves on, never sent by the recoverer', () => {
  const inFlight = (number: number, attemptOfTarget: number, target: 'primary' | 'backup' = 'primary', since = ago(CLAIM_LEASE_MS)) => ({ number, target, attemptOfTarget, since });

  it('attempt 1 left in flight: recorded unknown, attempt 2 due 60 s after attempt 1 started, a new task name', () => {
    const stored = record({ updatedAt: ago(CLAIM_LEASE_MS), inFlight: inFlight(1, 1, 'primary', ago(20_000)) });
    const update = recoverStale(stored, NOW, false, SETTINGS);
    assert.equal(update.status, 'retrying');
    assert.equal(update.errorCode, null);
    assert.equal(update.inFlight, null);
    assert.equal(update.attempts.length, 1);
    const [unknown] = update.attempts;
    assert.equal(unknown!.outcome, 'unknown');
    assert.equal(unknown!.number, 1);
    assert.equal(unknown!.request, null);
    assert.equal(unknown!.error?.code, 'EUNKNOWN_OUTCOME');
    assert.equal(unknown!.durationMs, 20_000);
    assert.deepEqual(update.next, { number: 2, target: 'primary', attemptOfTarget: 2 });
    assert.equal(update.nextAttemptAt?.getTime(), later(40_000).getTime());
    assert.equal(update.takeovers, 1);
    assert.equal(update.repairs, 1);
    assert.match(update.lastError!, /outcome unknown/);
    assert.equal(update.updatedAt, NOW);
  });

  it('the retry is due now when the lease already outlasted the retry delay', () => {
    const update = recoverStale(record({ inFlight: inFlight(1, 1, 'primary', ago(CLAIM_LEASE_MS)) }), NOW, false, SETTINGS);
    assert.equal(update.nextAttemptAt?.getTime(), NOW.getTime());
  });

  it('a recorded 2xx finishes it succeeded, never sent again', () => {
    const stored = record({ attempts: [attempt(1, 'failed'), attempt(2, 'succeeded', { target: 'backup', attemptOfTarget: 1 })], inFlight: inFlight(3, 1, 'backup') });
    const update = recoverStale(stored, NOW, true, SETTINGS);
    assert.equal(update.status, 'succeeded');
    assert.equal(update.next, null);
    assert.equal(update.nextAttemptAt, null);
    assert.equal(update.lastError, null);
    assert.equal(update.errorCode, null);
  });

  it(`past MAX_TAKEOVERS (${MAX_TAKEOVERS}) takeovers without progress it ends failed, stalled`, () => {
    const atLimit = recoverStale(retrying({ takeovers: MAX_TAKEOVERS - 1, inFlight: inFlight(2, 2) }), NOW, false, SETTINGS);
    assert.equal(atLimit.status, 'retrying');
    assert.equal(atLimit.takeovers, MAX_TAKEOVERS);
    const past = recoverStale(retrying({ takeovers: MAX_TAKEOVERS, inFlight: inFlight(2, 2) }), NOW, false, SETTINGS);
    assert.equal(past.status, 'failed');
    assert.equal(past.errorCode, 'stalled');
    assert.equal(past.takeovers, MAX_TAKEOVERS + 1);
    assert.equal(past.next, null);
    assert.match(past.lastError!, /^stalled: taken over 4 times/);
    assert.deepEqual(past.attempts.map((entry) => entry.outcome), ['retryable', 'unknown'], 'the lost attempt is still recorded');
  });

  it('a success recorded wins over the takeover limit', () => {
    assert.equal(recoverStale(record({ takeovers: 10, attempts: [attempt(1, 'succeeded')] }), NOW, false, SETTINGS).status, 'succeeded');
  });

  it('nothing in flight, retrying (its task was lost): the planned attempt again, due now, under a new task name', () => {
    const stored = retrying({ nextAttemptAt: ago(DEFAULT_RETRY_OVERDUE_MS), repairs: 2 });
    const update = recoverStale(stored, NOW, false, SETTINGS);
    assert.equal(update.status, 'retrying');
    assert.deepEqual(update.next, stored.next);
    assert.equal(update.nextAttemptAt?.getTime(), NOW.getTime());
    assert.equal(update.repairs, 3);
    assert.equal(update.lastError, 'HTTP 500', 'the last known error is kept');
    assert.deepEqual(update.attempts, stored.attempts, 'no attempt invented');
  });

  it('nothing in flight, pending (an older record): the next attempt after those made, to the primary', () => {
    const update = recoverStale(record({ attempts: [attempt(1, 'retryable')], attemptsDropped: 2, updatedAt: ago(CLAIM_LEASE_MS) }), NOW, false, SETTINGS);
    assert.deepEqual(update.next, { number: 4, target: 'primary', attemptOfTarget: 1 });
    assert.equal(update.nextAttemptAt?.getTime(), NOW.getTime());
  });

  it("the primary's last attempt lost, with a backup: the backup's first attempt, due now", () => {
    const update = recoverStale(retrying({ inFlight: inFlight(4, 4), next: { number: 4, target: 'primary', attemptOfTarget: 4 } }), NOW, true, SETTINGS);
    assert.equal(update.status, 'retrying');
    assert.deepEqual(update.next, { number: 5, target: 'backup', attemptOfTarget: 1 });
    assert.equal(update.nextAttemptAt?.getTime(), NOW.getTime());
  });

  it("the primary's last attempt lost, no backup: failed, retries_exhausted", () => {
    const update = recoverStale(retrying({ inFlight: inFlight(4, 4) }), NOW, false, SETTINGS);
    assert.equal(update.status, 'failed');
    assert.equal(update.errorCode, 'retries_exhausted');
    assert.match(update.lastError!, /no attempt is left/);
  });

  it("the backup's last attempt lost: failed, retries_exhausted", () => {
    const update = recoverStale(retrying({ inFlight: inFlight(8, 4, 'backup') }), NOW, true, SETTINGS);
    assert.equal(update.status, 'failed');
    assert.equal(update.errorCode, 'retries_exhausted');
  });

  it('a replay series is kept on the next attempt (its task name carries it)', () => {
    const update = recoverStale(retrying({ inFlight: { ...inFlight(6, 1), series: 2 } }), NOW, false, SETTINGS);
    assert.deepEqual(update.next, { number: 7, target: 'primary', attemptOfTarget: 2, series: 2 });
  });

  it('a legacy in-flight { attempt, since } takes its target from `next`', () => {
    const stored = retrying({ inFlight: { attempt: 5, since: ago(CLAIM_LEASE_MS) }, next: { number: 5, target: 'backup', attemptOfTarget: 1 } });
    const update = recoverStale(stored, NOW, true, SETTINGS);
    assert.deepEqual(
      update.attempts.at(-1)!,
      { ...update.attempts.at(-1)!, number: 5, target: 'backup', attemptOfTarget: 1, outcome: 'unknown' },
    );
    assert.deepEqual(update.next, { number: 6, target: 'backup', attemptOfTarget: 2 });
  });

  it('a legacy in-flight { attempt, since } without a matching `next` is taken as the primary', () => {
    const update = recoverStale(retrying({ inFlight: { attempt: 2, since: ago(CLAIM_LEASE_MS) }, next: null }), NOW, false, SETTINGS);
    assert.equal(update.attempts.at(-1)!.target, 'primary');
    assert.equal(update.attempts.at(-1)!.attemptOfTarget, 2);
    assert.deepEqual(update.next, { number: 3, target: 'primary', attemptOfTarget: 3 });
  });

  it('the attempt list stays bounded (first kept, the dropped counted)', () => {
    const attempts = Array.from({ length: MAX_KEPT_ATTEMPTS }, (_, index) => attempt(index + 3, 'retryable', { attemptOfTarget: 1 }));
    const update = recoverStale(retrying({ attempts, attemptsDropped: 2, inFlight: inFlight(14, 1) }), NOW, false, SETTINGS);
    assert.equal(update.attempts.length, MAX_KEPT_ATTEMPTS);
    assert.equal(update.attempts[0]!.number, 3);
    assert.equal(update.attempts.at(-1)!.outcome, 'unknown');
    assert.equal(update.attemptsDropped, 3);
  });

  it('is pure: the record it read is not changed', () => {
    const stored = retrying({ inFlight: inFlight(2, 2) });
    const copy = structuredClone(stored);
    recoverStale(stored, NOW, false, SETTINGS);
    assert.deepEqual(stored, copy);
  });
});

describe("the worker's claim and the recoverer's takeover (transactions)", () => {
  const planned = { number: 2, target: 'primary' as const, attemptOfTarget: 2 };

  it('claims a retrying attempt by writing it in flight', () => {
    const change = claimAttempt(planned, NOW, CLAIM_LEASE_MS)(retrying());
    assert.equal(change.result, 'claimed');
    assert.deepEqual(change.write, { inFlight: { ...planned, since: NOW }, updatedAt: NOW });
  });

  it('busy while another claim is fresh, stale after the lease, done once recorded, missing without a record', () => {
    assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(retrying({ inFlight: { ...planned, since: ago(CLAIM_LEASE_MS - 1) } })).result, 'busy');
    assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(retrying({ inFlight: { ...planned, since: ago(CLAIM_LEASE_MS) } })).result, 'stale');
    assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(retrying({ attempts: [attempt(1, 'retryable'), attempt(2, 'retryable')] })).result, 'done');
    assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(retrying({ status: 'succeeded' })).result, 'done');
    assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(retrying({ next: { ...planned, number: 3 } })).result, 'done');
    assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(undefined).result, 'missing');
    for (const result of ['busy', 'stale', 'done'] as const) {
      const stored = result === 'done' ? retrying({ status: 'failed' }) : retrying({ inFlight: { ...planned, since: result === 'busy' ? NOW : ago(CLAIM_LEASE_MS) } });
      assert.equal(claimAttempt(planned, NOW, CLAIM_LEASE_MS)(stored).write, undefined, `${result} writes nothing`);
    }
  });

  it('a takeover writes only if the record is unchanged since it was read', () => {
    const stored = retrying({ inFlight: { ...planned, since: ago(CLAIM_LEASE_MS) } });
    const update = recoverStale(stored, NOW, false, SETTINGS);
    assert.deepEqual(takeOver(stored.updatedAt, update)(stored), { result: true, write: update });
    assert.deepEqual(takeOver(stored.updatedAt, update)({ ...stored, updatedAt: ago(1) }), { result: false });
    assert.deepEqual(takeOver(stored.updatedAt, update)({ ...stored, status: 'succeeded' }), { result: false });
    assert.deepEqual(takeOver(stored.updatedAt, update)(undefined), { result: false });
  });
});
