import { classifyFailure, errorMessage, TransientError } from '../core/failures.ts';
import type { EventMessage } from '../events/event-message.ts';
import { announce, announcesFailureOf, deliveryFailedEvent, webhookDisabledEvent } from '../events/operational-events.ts';
import type { Logger } from '../log/logger.ts';
import type { WebhookRateLimit } from '../webhooks/webhook-config.ts';
import { formatTraceparent, newSpanId } from '../log/trace.ts';
import { attemptsMade, compactAttempts } from './attempt-list.ts';
import { recordedErrorText, type DeliveryStatus } from './delivery-record.ts';
import { seriesOf } from './next-attempt.ts';
import { UNCOUNTED_FAILURES, type DeliveryKey, type DeliveryUpdate, type RetryTask, type StoredDelivery } from './ports.ts';
import { succeededSince, unknownAttempt } from './recover.ts';
import { stateOf, writeStep, type DeliveryDeps, type Progress, type RecordingDeps } from './run-attempts.ts';

/**
 * A retrying record must have its task. Called after every write and whenever a redelivered message or
 * task finds a record already retrying: if an earlier enqueue failed after the write, this repairs it.
 * The task name is derived from (delivery, attempt, series, repairs), so a second call is a no-op.
 */
export async function ensureRetryScheduled(
  deps: Pick<DeliveryDeps, 'scheduler'>,
  key: DeliveryKey,
  state: Pick<DeliveryUpdate, 'status' | 'next' | 'nextAttemptAt'> & { repairs?: number | undefined; traceId?: string | undefined },
  rateLimit?: WebhookRateLimit,
): Promise<void> {
  const task = plannedTask(key, state);
  if (!task || !state.nextAttemptAt) return;
  // The task continues the delivery's trace; its span id is the scheduling step's own.
  const traceparent = state.traceId ? formatTraceparent({ traceId: state.traceId, spanId: newSpanId(), sampled: true }) : undefined;
  await deps.scheduler.schedule({ ...task, ...(traceparent ? { traceparent } : {}) }, state.nextAttemptAt, rateLimit);
}

/** The task a retrying record waits on (its name follows from it), or undefined when it waits on none. */
export function plannedTask(key: DeliveryKey, state: Pick<DeliveryUpdate, 'status' | 'next' | 'nextAttemptAt'> & { repairs?: number | undefined }): RetryTask | undefined {
  if (state.status !== 'retrying' || !state.next || !state.nextAttemptAt) return undefined;
  return { ...key, attempt: state.next.number, ...seriesOf(state.next), ...(state.repairs ? { repair: state.repairs } : {}) };
}

/**
 * This run outlived its lease and a takeover moved the delivery on: the record keeps the attempt as
 * outcome unknown (what the takeover wrote) and what came after it; what this run got goes to the log.
 */
function logSuperseded(progress: Progress, update: Pick<DeliveryUpdate, 'status'>, logger: Logger): void {
  const late = progress.attempts.at(-1);
  // A dispatcher's run before its first write holds no claim of its own: its event claim stood for attempt 1.
  const held = progress.claim?.number ?? (progress.seed ? (late?.number ?? 1) : undefined);
  logger.log('WARNING', `late attempt: this run held attempt ${held} past its lease and the delivery was taken over; its result (${update.status}${late ? `, attempt ${late.number} ${late.outcome}: ${late.summary}` : ''}) is not written over the record`, {
    lateAttempt: held ?? null,
    outcome: late?.outcome ?? null,
  });
}

/**
 * The one line per written step that the log-based metrics count (terraform/metrics.tf): a retry
 * scheduled (`retryScheduled`), or a delivery that ended (`deliveryOutcome`, with `errorCode`; an
 * unusable webhook document also `invalid: "webhook"`). Call it once per step, after the write.
 */
export function logCommitted(logger: Logger, update: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'next' | 'nextAttemptAt'>): void {
  if (update.status === 'retrying') {
    if (!update.next || !update.nextAttemptAt) return;
    logger.log('INFO', `retry scheduled: attempt ${update.next.number} (${update.next.target}) due ${update.nextAttemptAt.toISOString()}`, { retryScheduled: true, nextAttempt: update.next.number, nextTarget: update.next.target });
    return;
  }
  if (update.status === 'pending') return;
  const errorCode = update.errorCode ?? null;
  logger.log(update.status === 'succeeded' ? 'INFO' : 'WARNING', `delivery ${update.status}${errorCode ? ` (${errorCode})` : ''}`, {
    deliveryOutcome: update.status,
    errorCode,
    ...(errorCode === 'invalid_webhook' ? { invalid: 'webhook' } : {}),
  });
}

/**
 * Writes the new state, then makes sure the planned retry exists as a task. A retry that cannot be
 * enqueued for a reason other than a passing fault would never run: the delivery then ends failed.
 * Undefined when the run no longer held its claim (taken over): nothing was written or enqueued.
 */
export async function commitUpdate(deps: RecordingDeps, key: DeliveryKey, update: DeliveryUpdate, progress: Progress, logger: Logger, rateLimit?: WebhookRateLimit): Promise<DeliveryUpdate | undefined> {
  if (!(await writeStep(deps, key, update, progress))) {
    logSuperseded(progress, update, logger);
    return undefined;
  }
  // The write cleared the in-flight mark: the record is this run's until its retry is due.
  progress.claim = undefined;
  try {
    await ensureRetryScheduled(deps, key, update, rateLimit);
    logCommitted(logger, update);
    return update;
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    return failInternally(deps, key, progress, error, 'scheduling the next attempt', logger, { exists: true });
  }
}

/** `health.consecutiveFailures` as the caller read it with the webhook document. */
export function consecutiveFailures(webhookData: unknown): number {
  const value = (webhookData as { health?: { consecutiveFailures?: unknown } } | undefined)?.health?.consecutiveFailures;
  return typeof value === 'number' && value > 0 ? value : 0;
}

/** The webhook's name as its document gives it, for the operational events. */
export function webhookNameOf(webhookData: unknown): string | null {
  const name = (webhookData as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name.trim() ? name : null;
}

/** What an operational event about a delivery says of it, besides the written state. */
export interface DeliveryAbout {
  event: Pick<EventMessage, 'id' | 'type' | 'occurredAt'>;
  webhookName: string | null;
  createdAt: Date | null;
}

/**
 * A delivery that ended `failed` is announced (hookshape.delivery.failed), after its state is written;
 * never for the delivery of an operational event (the no-loop rule). Never throws.
 */
export async function announceFailure(deps: Pick<RecordingDeps, 'operations' | 'clock'>, key: DeliveryKey, written: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'lastError' | 'attempts' | 'attemptsDropped' | 'updatedAt'>, about: DeliveryAbout, logger: Logger): Promise<void> {
  if (written.status !== 'failed' || !deps.operations) return;
  if (!announcesFailureOf(about.event.type)) {
    logger.log('INFO', `delivery of operational event ${about.event.type} failed: not announced (no loops)`, { operationalEventType: 'hookshape.delivery.failed', announced: false });
    return;
  }
  const event = deliveryFailedEvent({
    accountId: key.accountId,
    webhookId: key.webhookId,
    webhookName: about.webhookName,
    event: about.event,
    errorCode: written.errorCode,
    lastError: written.lastError,
    attempts: attemptsMade(written),
    createdAt: about.createdAt,
    endedAt: written.updatedAt ?? deps.clock.now(),
  });
  await announce(deps.operations, event, logger);
}

/**
 * Counts a delivery that ended `failed` on its webhook and disables the webhook once the count reaches
 * the threshold; a success starts the count again. On the success path it writes only when the count
 * it read was not zero, so a healthy webhook's deliveries cost no extra write. `invalid` does not
 * count (the document's validation shows those), nor do our own faults (`internal_error`, `stalled`):
 * they say nothing about the receiver. The count read by the dispatcher may be up to
 * WEBHOOK_CACHE_SECONDS old; the transaction that disables re-reads it. Never throws: bookkeeping must
 * not turn a recorded delivery into a redelivered event.
 */
export async function recordWebhookHealth(
  deps: DeliveryDeps,
  key: DeliveryKey,
  update: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'lastError'> & Partial<Pick<DeliveryUpdate, 'attempts' | 'attemptsDropped'>>,
  seenFailures: number,
  logger: Logger,
  webhookName: string | null = null,
): Promise<void> {
  const autoDisable = deps.autoDisable;
  if (!autoDisable || autoDisable.afterFailures <= 0) return;
  try {
    if (update.status === 'succeeded') {
      if (seenFailures > 0) await autoDisable.health.resetFailures(key.accountId, key.webhookId);
      return;
    }
    if (update.status !== 'failed' || UNCOUNTED_FAILURES.has(update.errorCode ?? '')) return;
    const now = deps.clock.now();
    await autoDisable.health.countFailure(key.accountId, key.webhookId, now);
    if (seenFailures + 1 < autoDisable.afterFailures) return;
    // The counter is the cheap filter; before disabling, the delivery log says whether the failures were
    // consecutive (a success in between may have missed its reset). This delivery's record is written.
    let streak: number;
    try {
      streak = await autoDisable.health.failureStreak(key.accountId, key.webhookId, autoDisable.afterFailures);
    } catch (error) {
      logger.log('ERROR', `webhook ${key.webhookId}: could not read its delivery log to confirm ${autoDisable.afterFailures} consecutive failures; not disabled now, the next failure checks again: ${errorMessage(error)}`, { stack: (error as Error)?.stack ?? null });
      return;
    }
    if (streak < autoDisable.afterFailures) {
      await autoDisable.health.lowerFailures(key.accountId, key.webhookId, streak);
      logger.log('INFO', `webhook ${key.webhookId}: the failure count was above the last ${streak} consecutive failed deliveries of its log (a success in between); set to ${streak}`, { consecutiveFailures: streak });
      return;
    }
    const reason = (count: number) => `disabled automatically after ${count} consecutive failed deliveries; the last (event ${key.eventId}): ${update.lastError ?? 'failed'}`;
    const disabledAfter = await autoDisable.health.disableIfFailing(key.accountId, key.webhookId, autoDisable.afterFailures, now, reason);
    if (disabledAfter === undefined) return;
    // autoDisabled: counted by hookshape/webhooks_auto_disabled (terraform/metrics.tf).
    logger.log('NOTICE', `webhook ${key.webhookId} ${reason(disabledAfter)}`, { consecutiveFailures: disabledAfter, autoDisabled: true });
    // The disabled webhook is not among the receivers: the dispatcher skips disabled webhooks and never
    // delivers an operational event to the webhook it is about.
    await announce(
      deps.operations,
      webhookDisabledEvent({ accountId: key.accountId, webhookId: key.webhookId, webhookName, at: now, consecutiveFailures: disabledAfter, reason: reason(disabledAfter), eventId: key.eventId, attempts: update.attempts ? attemptsMade({ attempts: update.attempts, attemptsDropped: update.attemptsDropped ?? 0 }) : 0 }),
      logger,
    );
  } catch (error) {
    logger.log('ERROR', `could not update the failure count of webhook ${key.webhookId}: ${errorMessage(error)}`);
  }
}

/**
 * A fault that is not a passing one hit this delivery: redelivering would fail the same way, so the
 * delivery ends here — `failed` with `internal_error`, or `succeeded` if an attempt already got a 2xx
 * (it is never sent again) — and its siblings go on. An attempt that may have left when the fault hit
 * is recorded as `unknown`. The stack goes to the log, never into the record. If even that write
 * fails, a second one without bodies is tried; a passing fault there is thrown (redelivery), anything
 * else is logged and left to the repair sweep, which finds the record stale.
 *
 * `seed`: the whole record to create when none was written yet (the dispatcher's delivery before its
 * first write); a record found there was written by a takeover and is left as it is.
 *
 * Undefined when a takeover had moved the delivery on (this run was late): nothing was written, no
 * outcome is logged for the metrics and nothing is announced — as commitUpdate.
 */
export async function failInternally(
  deps: RecordingDeps,
  key: DeliveryKey,
  progress: Progress,
  error: unknown,
  stage: string,
  logger: Logger,
  where: { exists: true } | { exists: false; seed: StoredDelivery },
): Promise<DeliveryUpdate | undefined> {
  // An error's text may quote anything (a rendered value, a secret) at any length: redacted and bounded.
  const message = recordedErrorText(errorMessage(error), progress.secretValues);
  const stack = (error as Error)?.stack;
  // Logged before the write: whether this run still owns the delivery is known only then (a superseded
  // write is logged as such, and the takeover's outcome stands).
  logger.log('ERROR', `internal error while ${stage}: ${message}; the delivery is ended with it unless a takeover moved it on`, { errorCode: 'internal_error', stage, stack: typeof stack === 'string' ? recordedErrorText(stack, progress.secretValues) : null });
  const now = deps.clock.now();
  if (progress.inFlight) {
    progress.attempts.push(unknownAttempt(progress.inFlight, now));
    progress.inFlight = undefined;
  }
  const succeeded = succeededSince(progress.attempts, progress.seriesFrom ?? 1);
  const final: { status: DeliveryStatus } & Pick<DeliveryUpdate, 'errorCode' | 'lastError'> = succeeded
    ? { status: 'succeeded', errorCode: null, lastError: null }
    : { status: 'failed', errorCode: 'internal_error', lastError: `internal error while ${stage}: ${message} (hookshape's log has the details; replay the delivery once the cause is fixed)` };
  const update = stateOf(progress, now, { ...final, nextAttemptAt: null, next: null });
  /** Whether this run's state was written; false when a takeover had moved the delivery on (logged as a late attempt). */
  const write = async (state: DeliveryUpdate, minimal: boolean): Promise<boolean> => {
    if (where.exists) {
      if (await deps.deliveries.update(key, state, progress.claim)) return true;
      logSuperseded(progress, state, logger);
      return false;
    }
    const seed = minimal ? { ...where.seed, event: { ...where.seed.event, data: {} }, eventDataOmitted: true } : where.seed;
    const claim = await deps.deliveries.claim({ ...seed, ...state } as StoredDelivery);
    // Written first by a takeover of the event (this run outlived the event claim's lease): not ours.
    if (!claim.created) {
      logSuperseded(progress, state, logger);
      return false;
    }
    progress.seed = undefined;
    return true;
  };
  // Superseded: nothing of this run was written, so no outcome line (the metrics count the takeover's)
  // and nothing to announce; undefined, as commitUpdate answers.
  try {
    if (!(await write(update, false))) return undefined;
    logCommitted(logger, update);
    return update;
  } catch (first) {
    const compact = { ...update, attempts: compactAttempts(update.attempts) };
    try {
      if (!(await write(compact, true))) return undefined;
      logCommitted(logger, compact);
      return compact;
    } catch (second) {
      if (classifyFailure(second) === 'transient') throw second;
      if (!where.exists) {
        // No record at all: the repair sweep cannot see it, so the event must come again (a takeover
        // of its claim after the lease records it), rather than be acknowledged and lost.
        logger.log('ERROR', `could not record the internal error of this delivery (${errorMessage(first)}; then ${errorMessage(second)}): it has no record, the event is redelivered`, { stack: (second as Error)?.stack ?? null });
        throw new TransientError(`no record of the delivery could be written: ${errorMessage(second)}`, { cause: second });
      }
      logger.log('ERROR', `could not record the internal error of this delivery (${errorMessage(first)}; then ${errorMessage(second)}): the repair sweep will find it`, { stack: (second as Error)?.stack ?? null });
      return compact;
    }
  }
}
