/**
 * The read-and-write steps of the state machine as pure functions of the stored record, run inside
 * the store's read-modify-write (DeliveryLog.modify). Pure, so a store may run them again on contention and
 * unit tests can run them on plain objects.
 */
import { hasEnded } from './delivery-record.ts';
import { staleness, type LeaseTiming } from './lease.ts';
import type { AttemptClaim, ClaimToken, DeliveryUpdate, ModifyChange, PlannedAttempt, ReplayStart, StoredDelivery } from './ports.ts';
import { inFlightPlan, unknownAttempt } from './recover.ts';
import { attemptsMade, boundAttempts } from './attempt-list.ts';

/** The worker's claim on attempt `planned.number` of a retrying delivery. */
export const claimAttempt =
  (planned: PlannedAttempt, now: Date, leaseMs: number) =>
  (record: StoredDelivery | undefined): ModifyChange<AttemptClaim> => {
    if (!record) return { result: 'missing' };
    if (record.status !== 'retrying' || attemptsMade(record) >= planned.number || record.next?.number !== planned.number) return { result: 'done' };
    if (record.inFlight) {
      if (now.getTime() - record.inFlight.since.getTime() < leaseMs) return { result: 'busy' };
      return { result: 'stale' };
    }
    return { result: 'claimed', write: { inFlight: { ...planned, since: now }, updatedAt: now } };
  };

/** Whether the record's attempt in flight is still the one `owner` claimed. */
export function holdsClaim(record: StoredDelivery | undefined, owner: ClaimToken): boolean {
  const inFlight = record?.inFlight;
  if (!inFlight) return false;
  const number = 'number' in inFlight ? inFlight.number : inFlight.attempt;
  return number === owner.number && inFlight.since.getTime() === owner.since.getTime();
}

/** An owner's write (DeliveryLog.update with `owner`): only while it still holds its claim. */
export const commitAsOwner =
  (owner: ClaimToken, update: DeliveryUpdate) =>
  (record: StoredDelivery | undefined): ModifyChange<boolean> =>
    holdsClaim(record, owner) ? { result: true, write: update } : { result: false };

/**
 * Gives back a claim whose attempt never left (a passing fault before the send, e.g. loading the
 * secrets): the task's rerun claims it again at once instead of waiting out the lease.
 */
export const releaseClaim =
  (owner: ClaimToken, now: Date) =>
  (record: StoredDelivery | undefined): ModifyChange<boolean> =>
    holdsClaim(record, owner) ? { result: true, write: { inFlight: null, updatedAt: now } } : { result: false };

/** Writes a recovery's update only if nobody moved the record since it was read. */
export const takeOver =
  (seenUpdatedAt: Date, update: DeliveryUpdate) =>
  (record: StoredDelivery | undefined): ModifyChange<boolean> => {
    if (!record || hasEnded(record.status) || record.updatedAt.getTime() !== seenUpdatedAt.getTime()) return { result: false };
    return { result: true, write: update };
  };

/** Replays kept on a record; older ones are counted in `replaysDropped`. */
export const MAX_KEPT_REPLAYS = 20;

/**
 * A replayed record is kept for its retention period (expiresAt - createdAt) from the replay: the TTL
 * must not delete it while its new series runs (a recover job over the whole retention window replays
 * records about to expire).
 */
function replayRetention(record: StoredDelivery, now: Date): Pick<StoredDelivery, 'expiresAt'> | Record<string, never> {
  const { expiresAt, createdAt } = record;
  // Records written before retention existed have no expiresAt: nothing to extend.
  if (!(expiresAt instanceof Date) || !(createdAt instanceof Date)) return {};
  const extended = now.getTime() + (expiresAt.getTime() - createdAt.getTime());
  return extended > expiresAt.getTime() ? { expiresAt: new Date(extended) } : {};
}

/**
 * An operator's replay: a finished delivery — or one that is stale by the sweep's rule (no live owner)
 * — becomes retrying with the first attempt of a new series to the primary, due now. An attempt left
 * in flight by a dead owner is recorded as `unknown` first, so the history stays true.
 */
export const startReplay =
  (now: Date, timing: LeaseTiming) =>
  (record: StoredDelivery | undefined): ModifyChange<ReplayStart> => {
    if (!record) return { result: { started: false, reason: 'no such delivery' } };
    if (!hasEnded(record.status)) {
      const stale = staleness(record, now, timing);
      if (!stale.stale) return { result: { started: false, reason: `it is ${record.status}: ${stale.reason}; already being delivered` } };
    }
    const inFlight = inFlightPlan(record);
    const withUnknown = inFlight ? [...record.attempts, unknownAttempt(inFlight, now)] : record.attempts;
    const { attempts, attemptsDropped } = boundAttempts(withUnknown, record.attemptsDropped ?? 0);
    const firstAttempt = attempts.length + attemptsDropped + 1;
    const allReplays = [...(record.replays ?? []), { at: now, previousStatus: record.status, previousErrorCode: record.errorCode ?? null, firstAttempt }];
    const series = allReplays.length + (record.replaysDropped ?? 0);
    const replays = allReplays.slice(-MAX_KEPT_REPLAYS);
    const replaysDropped = (record.replaysDropped ?? 0) + allReplays.length - replays.length;
    const next = { number: firstAttempt, target: 'primary' as const, attemptOfTarget: 1, series };
    const write: Partial<StoredDelivery> = {
      ...replayRetention(record, now),
      status: 'retrying',
      attempts,
      attemptsDropped,
      replays,
      replaysDropped,
      next,
      nextAttemptAt: now,
      inFlight: null,
      takeovers: 0,
      errorCode: null,
      updatedAt: now,
    };
    return { result: { started: true, record: { ...record, ...write } as StoredDelivery, next }, write };
  };

/**
 * Puts back a replay of a finished delivery whose task could not be enqueued, unless an attempt of it
 * already ran. A replay of a stale `pending` or `retrying` record stays: put back, it would be a
 * retrying record without a next attempt, which the repair sweep's query never returns; left as it is
 * (retrying, its attempt due now), the sweep finds it overdue and enqueues it.
 */
export const undoReplay =
  (series: number, now: Date) =>
  (record: StoredDelivery | undefined): ModifyChange<boolean> => {
    if (!record) return { result: false };
    const replays = record.replays ?? [];
    const last = replays[replays.length - 1];
    const seriesOfLast = replays.length + (record.replaysDropped ?? 0);
    if (record.status !== 'retrying' || record.next?.series !== series || attemptsMade(record) >= record.next.number || !last || seriesOfLast !== series || record.inFlight) return { result: false };
    if (!hasEnded(last.previousStatus)) return { result: false };
    return { result: true, write: { status: last.previousStatus, errorCode: last.previousErrorCode ?? null, replays: replays.slice(0, -1), next: null, nextAttemptAt: null, updatedAt: now } };
  };
