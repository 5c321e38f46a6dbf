import type { AttemptRecord } from './delivery-record.ts';
import { attemptsMade, boundAttempts } from './attempt-list.ts';
import { MAX_TAKEOVERS } from './lease.ts';
import { continuation, FIRST_ATTEMPT } from './next-attempt.ts';
import type { DeliveryUpdate, InFlightAttempt, PlannedAttempt, StoredDelivery } from './ports.ts';
import type { RetryPolicy } from './retry-policy.ts';

const UNKNOWN_SUMMARY = 'outcome unknown: the instance sending this attempt stopped before it recorded the answer (the receiver may have it)';

/** Older records keep only { attempt, since } in flight: the rest is read from `next` or assumed primary. */
export function inFlightPlan(record: StoredDelivery): InFlightAttempt | undefined {
  const inFlight = record.inFlight;
  if (!inFlight) return undefined;
  if ('target' in inFlight) return inFlight;
  const next = record.next?.number === inFlight.attempt ? record.next : undefined;
  return { number: inFlight.attempt, target: next?.target ?? 'primary', attemptOfTarget: next?.attemptOfTarget ?? inFlight.attempt, ...(next?.series ? { series: next.series } : {}), since: inFlight.since };
}

/**
 * The number of the current series' first attempt: after a replay, the attempts before it (an earlier
 * series, perhaps a 2xx) say nothing about whether this series was delivered.
 */
export function seriesStart(record: Pick<StoredDelivery, 'attempts' | 'attemptsDropped' | 'replays'>): number {
  const last = record.replays?.at(-1);
  if (!last) return 1;
  if (last.firstAttempt !== undefined) return last.firstAttempt;
  // Older records: the attempts that started since the replay.
  return record.attempts.find((attempt) => attempt.startedAt.getTime() >= last.at.getTime())?.number ?? attemptsMade(record) + 1;
}

/** Whether an attempt of the series that starts at attempt `from` got a 2xx. */
export const succeededSince = (attempts: readonly AttemptRecord[], from: number): boolean => attempts.some((attempt) => attempt.outcome === 'succeeded' && attempt.number >= from);

export function unknownAttempt(plan: InFlightAttempt, now: Date): AttemptRecord {
  return {
    number: plan.number,
    target: plan.target,
    attemptOfTarget: plan.attemptOfTarget,
    startedAt: plan.since,
    durationMs: Math.max(0, now.getTime() - plan.since.getTime()),
    request: null,
    response: null,
    error: { code: 'EUNKNOWN_OUTCOME', message: UNKNOWN_SUMMARY },
    outcome: 'unknown',
    summary: UNKNOWN_SUMMARY,
  };
}

/**
 * Moves a delivery that lost its owner forward, without sending anything itself:
 * - an attempt left in flight is recorded as `unknown` and the webhook's retry policy decides what follows (the
 *   next attempt, through Cloud Tasks, is the one possible duplicate), its delay counted from the
 *   start of the lost attempt;
 * - a recorded success finishes it `succeeded` (never sent again);
 * - nothing in flight: the planned attempt is scheduled, due now;
 * - past MAX_TAKEOVERS attempts lost in a row (recorded `unknown`), it ends `failed` / `stalled`.
 * The caller writes the update only if the record is unchanged since it read it, then schedules `next`.
 */
export function recoverStale(record: StoredDelivery, now: Date, hasBackup: boolean, policy: RetryPolicy): DeliveryUpdate {
  const plan = inFlightPlan(record);
  // Only a lost attempt counts: a retry that merely ran late (a queue backlog, a lost task) is no sign
  // that instances keep stopping, and must not end the delivery `stalled`.
  const takeovers = (record.takeovers ?? 0) + (plan ? 1 : 0);
  const all = plan ? [...record.attempts, unknownAttempt(plan, now)] : [...record.attempts];
  const bounded = boundAttempts(all, record.attemptsDropped ?? 0);
  const base = { ...bounded, inFlight: null, takeovers, repairs: record.repairs ?? 0, updatedAt: now, ...(record.traceId ? { traceId: record.traceId } : {}) };
  const finish = (status: 'succeeded' | 'failed', errorCode: DeliveryUpdate['errorCode'], lastError: string | null): DeliveryUpdate => ({ ...base, status, errorCode, lastError, nextAttemptAt: null, next: null });
  // A new task name (repairs + 1): the lost task's name may be taken by it or by its tombstone.
  const retryAt = (next: PlannedAttempt, delaySeconds: number): DeliveryUpdate => ({ ...base, repairs: base.repairs + 1, status: 'retrying', errorCode: null, lastError: plan ? UNKNOWN_SUMMARY : record.lastError, next, nextAttemptAt: new Date(now.getTime() + delaySeconds * 1000) });

  if (succeededSince(record.attempts, seriesStart(record))) return finish('succeeded', null, null);
  if (takeovers > MAX_TAKEOVERS) {
    return finish('failed', 'stalled', `stalled: taken over ${takeovers} times without an attempt of known outcome (its instances kept stopping); replay it once the cause is fixed`);
  }
  if (!plan) {
    const next = record.next ?? { ...FIRST_ATTEMPT, number: attemptsMade(record) + 1 };
    return retryAt(next, 0);
  }
  const step = continuation({ result: 'unknown', summary: UNKNOWN_SUMMARY }, plan, hasBackup, policy);
  switch (step.action) {
    case 'retry': {
      // The wait counts from when the lost attempt started: the lease has already spent part of it.
      const waited = (now.getTime() - plan.since.getTime()) / 1000;
      return retryAt(step.next, Math.max(0, step.delaySeconds - waited));
    }
    case 'backup':
      return retryAt(step.next, 0);
    case 'done':
      return step.status === 'succeeded' ? finish('succeeded', null, null) : finish('failed', step.errorCode, `${UNKNOWN_SUMMARY}; no attempt is left`);
  }
}
