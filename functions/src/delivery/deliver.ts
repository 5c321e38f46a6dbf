/**
 * The two ways into the state machine — the dispatcher's first attempt and the retry worker's later
 * ones — and the recovery of a delivery whose owner stopped. Every step that throws is classified here
 * (core/failures.ts): a passing infrastructure fault propagates (the event is redelivered, or Cloud
 * Tasks runs the task again); anything else ends this one delivery, recorded, and the caller goes on.
 */
import { classifyFailure, errorMessage } from '../core/failures.ts';
import type { EventMessage } from '../events/event-message.ts';
import type { Logger } from '../log/logger.ts';
import { continueTrace, newTrace, traceFields, type TraceContext } from '../log/trace.ts';
import type { ParsedWebhook, WebhookConfig, WebhookRateLimit } from '../webhooks/webhook-config.ts';
import { parseWebhookConfig, secretNamesOf } from '../webhooks/webhook-config.ts';
import type { StoredWebhook, WebhookStore } from '../webhooks/webhook-store.ts';
import type { SecretStore } from '../core/ports.ts';
import { attemptsMade } from './attempt-list.ts';
import { announceFailure, commitUpdate, consecutiveFailures, ensureRetryScheduled, failInternally, logCommitted, plannedTask, recordWebhookHealth, webhookNameOf, type DeliveryAbout } from './commit.ts';
import { hasEnded, recordedErrorText, type DeliveryStatus } from './delivery-record.ts';
import { pendingDelivery, queuedDelivery, staleness } from './lease.ts';
import { FIRST_ATTEMPT } from './next-attempt.ts';
import type { ClaimToken, DeliveryKey, DeliveryUpdate, PlannedAttempt, RetryTask, StoredDelivery } from './ports.ts';
import { inFlightPlan, recoverStale, seriesStart } from './recover.ts';
import { retryPolicy } from './retry-policy.ts';
import { deliveryKey, runAttempts, stateOf, type DeliveryDeps, type Progress, type RecordingDeps } from './run-attempts.ts';
import { claimAttempt, releaseClaim, takeOver } from './transitions.ts';

/** A run that outlived its lease found its delivery taken over: its result is in the log only. */
const SUPERSEDED = 'taken over while this run was late (past its lease): its result was not written';

export type DeliveryOutcome = { webhookId: string; status: DeliveryStatus | 'skipped'; note?: string; /** Skipped: its task is still queued. */ queued?: true };

/** The account's secrets as the dispatcher loaded them once per event; a lasting failure is per delivery. */
export type LoadedSecrets = { ok: true; secrets: Record<string, string> } | { ok: false; error: unknown };

export interface StartDelivery {
  event: EventMessage;
  stored: StoredWebhook;
  parsed: ParsedWebhook;
  secrets: LoadedSecrets;
  /** Within the event's fan-out limit (`fanOutLimit` says what the limit is when it is not). */
  withinLimit: boolean;
  fanOutLimit: number;
  /** The dispatch's span of the event's trace (the logger already carries it); absent: a new trace. */
  trace?: TraceContext;
  /**
   * This run took over the event claim of an owner whose lease passed, and the delivery has no record:
   * attempt 1 may have left with that owner. It is recorded `unknown` and the next attempt goes through
   * Cloud Tasks; nothing is sent inline. `claimedAt` and `takeovers` are the lost owner's claim.
   */
  takeover?: { claimedAt: Date; takeovers: number };
  /** The event claim could not be written for a lasting reason: the delivery ends failed, nothing is sent. */
  unclaimed?: { error: unknown };
}

const progressOf = (record: Pick<StoredDelivery, 'attempts' | 'attemptsDropped' | 'takeovers' | 'repairs' | 'replays'>, status: Progress['status'], trace: TraceContext | undefined): Progress => ({
  status,
  attempts: [...record.attempts],
  seriesFrom: seriesStart(record),
  attemptsDropped: record.attemptsDropped ?? 0,
  takeovers: record.takeovers ?? 0,
  repairs: record.repairs ?? 0,
  inFlight: undefined,
  trace,
});

/**
 * The dispatcher's delivery of one event to one webhook, under the event's claim (dispatch-event.ts):
 * no record exists yet, and its first write creates it with the first result — so a record found at
 * that create was written by a takeover (the run outlived the event claim's lease) and is left alone.
 * Throws only passing infrastructure faults.
 */
export async function startDelivery(deps: DeliveryDeps & { retentionDays: number }, start: StartDelivery, logger: Logger): Promise<DeliveryOutcome> {
  const { event, stored, parsed } = start;
  const webhookId = stored.id;
  const trace = start.trace ?? newTrace();
  if (!start.trace) logger = logger.child(traceFields(trace));
  // A rate-limited webhook is never sent inline: its first attempt waits in its own queue, whose
  // limits Cloud Tasks enforces across every instance (tasks/rate-limited-queue.ts).
  const rateLimit = parsed.ok && start.withinLimit ? parsed.webhook.rateLimit : undefined;
  const webhookName = parsed.ok ? parsed.webhook.name : null;
  // A takeover's record starts from the lost owner's claim: attempt 1 in flight since then.
  const seed = rateLimit
    ? queuedDelivery(event, webhookId, webhookName, deps.clock.now(), deps.retentionDays, trace.traceId)
    : start.takeover
      ? { ...pendingDelivery(event, webhookId, webhookName, start.takeover.claimedAt, deps.retentionDays, trace.traceId), takeovers: start.takeover.takeovers }
      : pendingDelivery(event, webhookId, webhookName, deps.clock.now(), deps.retentionDays, trace.traceId);
  const key = deliveryKey(seed);
  const progress: Progress = { ...progressOf(seed, 'pending', trace), seed };
  const about: DeliveryAbout = { event, webhookName: seed.webhookName, createdAt: seed.createdAt };
  // Whether the record met at a create is being looked at (then a lasting fault is not ours to record).
  let resuming = false;
  let stage = 'claiming the event';
  // A record some other run wrote first: moved on by the rules of a redelivery.
  const resume = async (existing: StoredDelivery): Promise<DeliveryOutcome> => {
    resuming = true;
    stage = 'looking at an existing delivery';
    const existingTrace = existing.traceId !== trace.traceId ? continueTrace(existing.traceId) : undefined;
    return resumeExisting(deps, key, existing, parsed.ok ? parsed.webhook : undefined, existingTrace ? logger.child(traceFields(existingTrace)) : logger);
  };
  try {
    if (start.unclaimed) throw start.unclaimed.error;
    if (start.takeover && start.withinLimit && !rateLimit) {
      stage = 'taking over the delivery';
      // The lost owner may have sent attempt 1 (its webhook was deliverable then): recorded unknown
      // even if the webhook no longer parses — the retry worker then ends it invalid, nothing sent.
      // If even this fails for a lasting reason, the attempt that may have left is recorded unknown.
      progress.inFlight = inFlightPlan(seed);
      return await takeOverUnrecorded(deps, seed, parsed.ok ? parsed.webhook : undefined, logger, resume);
    }
    if (!parsed.ok || !start.withinLimit) {
      const invalid = parsed.ok
        ? { errorCode: 'fan_out_limit' as const, lastError: `webhook ${webhookId}: not sent: more than ${start.fanOutLimit} webhooks of the account subscribe to ${event.type}` }
        : { errorCode: 'invalid_webhook' as const, lastError: parsed.reason };
      logger.log('WARNING', `delivery invalid: ${invalid.lastError}`, { errorCode: invalid.errorCode });
      stage = 'recording the result';
      const ended = await commitUpdate(deps, key, stateOf(progress, deps.clock.now(), { status: 'invalid', ...invalid, nextAttemptAt: null, next: null }), progress, logger);
      if (!ended) return { webhookId, status: 'skipped', note: SUPERSEDED };
      return { webhookId, status: 'invalid', note: invalid.lastError };
    }
    if (rateLimit) {
      stage = 'recording the queued delivery';
      const created = await deps.deliveries.claim(seed);
      if (!created.created) return await resume(created.existing);
      progress.seed = undefined;
      stage = "enqueueing the first attempt on the webhook's rate-limited queue";
      await ensureRetryScheduled(deps, key, seed, rateLimit);
      logger.log('INFO', 'delivery queued: the webhook is rate limited, its queue sends attempt 1', { status: 'retrying', ...rateLimit });
      return { webhookId, status: 'retrying', note: 'queued on the rate-limited queue' };
    }
    stage = "loading the account's secrets";
    if (!start.secrets.ok) throw start.secrets.error;
    progress.secretValues = Object.values(start.secrets.secrets);
    stage = 'rendering and sending';
    const update = await runAttempts(deps, key, event, parsed.webhook, start.secrets.secrets, FIRST_ATTEMPT, progress, logger);
    stage = 'recording the result';
    const written = await commitUpdate(deps, key, update, progress, logger);
    if (!written) return { webhookId, status: 'skipped', note: SUPERSEDED };
    // State first (the failure count the next delivery reads), then the announcements.
    await recordWebhookHealth(deps, key, written, consecutiveFailures(stored.data), logger, webhookNameOf(stored.data));
    await announceFailure(deps, key, written, about, logger);
    return { webhookId, status: written.status, ...(written.lastError ? { note: written.lastError } : {}) };
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    if (resuming) {
      // Not ours to end: its owner, a takeover or the repair sweep moves it on.
      logger.log('ERROR', `could not look at the existing delivery: ${errorMessage(error)}`, { stage, stack: (error as Error)?.stack ?? null });
      return { webhookId, status: 'skipped', note: `internal error while ${stage}` };
    }
    const ended = await failInternally(deps, key, progress, error, stage, logger, progress.seed ? { exists: false, seed: progress.seed } : { exists: true });
    if (!ended) return { webhookId, status: 'skipped', note: SUPERSEDED };
    await announceFailure(deps, key, ended, about, logger);
    return { webhookId, status: ended.status, ...(ended.lastError ? { note: ended.lastError } : {}) };
  }
}

/**
 * A redelivered event met a record. Final: nothing to do. Owned by a live run (or a retry waiting on
 * its task): acknowledged, since the repair sweep recovers it should that owner die — a nack would
 * only spend one of the event's dead-letter delivery attempts. Without a live owner: recovered now.
 * `webhook` is its current version, undefined when it is gone or unusable.
 */
export async function resumeExisting(deps: DeliveryDeps, key: DeliveryKey, existing: StoredDelivery, webhook: WebhookConfig | undefined, logger: Logger): Promise<DeliveryOutcome> {
  if (hasEnded(existing.status)) {
    logger.log('INFO', `already ${existing.status}: not sent again`, { status: existing.status });
    return { webhookId: key.webhookId, status: 'skipped', note: `already ${existing.status}` };
  }
  const stale = staleness(existing, deps.clock.now(), deps.timing);
  if (!stale.stale) {
    // A retry whose enqueue failed after its write is repaired here (the task name makes it idempotent).
    await ensureRetryScheduled(deps, key, existing, webhook?.rateLimit);
    logger.log('INFO', `not sent again: ${stale.reason}`, { status: existing.status });
    return { webhookId: key.webhookId, status: 'skipped', note: `already ${existing.status}: ${stale.reason}` };
  }
  return recoverDelivery(deps, existing, webhook, stale.reason, logger);
}

/**
 * A takeover of an event claim past its lease, for a delivery that has no record: its first attempt
 * may have left with the lost owner. Like recoverStale on a `pending` record: the attempt is recorded
 * `unknown`, the takeovers counted (from the event claim's), and the retry policy plans the next
 * attempt through Cloud Tasks; nothing is sent here. The record is created, so a late owner's result
 * written meanwhile wins: it is then moved on as a record found by a redelivery (`resume`).
 */
export async function takeOverUnrecorded(
  deps: RecordingDeps,
  seed: StoredDelivery,
  webhook: WebhookConfig | undefined,
  logger: Logger,
  resume: (existing: StoredDelivery) => Promise<DeliveryOutcome>,
): Promise<DeliveryOutcome> {
  const update = recoverStale(seed, deps.clock.now(), webhook?.backupUrl !== undefined, retryPolicy(deps.retry, webhook));
  let created: Awaited<ReturnType<RecordingDeps['deliveries']['claim']>>;
  try {
    created = await deps.deliveries.claim({ ...seed, ...update });
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    // No record, and the event claim is ours now: acknowledging without one would lose the delivery
    // (the repair sweep cannot see it). Ended failed (the lost attempt unknown), or the event is
    // redelivered when even that cannot be written (failInternally throws a passing fault).
    const key = deliveryKey(seed);
    const progress: Progress = { ...progressOf(seed, 'pending', continueTrace(seed.traceId)), seed, inFlight: inFlightPlan(seed) };
    const ended = await failInternally(deps, key, progress, error, 'taking over the delivery', logger, { exists: false, seed });
    if (!ended) return { webhookId: key.webhookId, status: 'skipped', note: SUPERSEDED };
    await announceFailure(deps, key, ended, aboutRecord(seed), logger);
    return { webhookId: key.webhookId, status: ended.status, ...(ended.lastError ? { note: ended.lastError } : {}) };
  }
  if (!created.created) {
    logger.log('INFO', 'not taken over: its owner recorded the delivery meanwhile');
    return resume(created.existing);
  }
  return afterRecovery(deps, seed, update, webhook, `the event's claim passed its lease (claimed ${seed.createdAt.toISOString()}) and the delivery has no record`, logger);
}

/**
 * Moves a stale delivery on by the rules of recoverStale (it never sends itself: the next attempt goes
 * through Cloud Tasks), if nobody else moved it since it was read. `webhook` is its current version
 * (its backup URL and retry policy), undefined when it is gone or unreadable.
 */
export async function recoverDelivery(deps: RecordingDeps, record: StoredDelivery, webhook: WebhookConfig | undefined, why: string, logger: Logger): Promise<DeliveryOutcome> {
  const key = deliveryKey(record);
  // A retry late only because its queue is throttled (a rate-limited webhook's backlog) still has its
  // task: taking it over would count a takeover for nothing and, after three, end it `stalled`.
  const waitingOn = record.inFlight ? undefined : plannedTask(key, record);
  if (waitingOn && deps.scheduler.queued && (await deps.scheduler.queued(waitingOn))) {
    logger.log('INFO', `not recovered (${why}): its task for attempt ${waitingOn.attempt} is still queued`, { status: record.status });
    return { webhookId: key.webhookId, status: 'skipped', note: `its task for attempt ${waitingOn.attempt} is still queued`, queued: true };
  }
  const update = recoverStale(record, deps.clock.now(), webhook?.backupUrl !== undefined, retryPolicy(deps.retry, webhook));
  const won = await deps.deliveries.modify(key, takeOver(record.updatedAt, update));
  if (!won) return { webhookId: key.webhookId, status: 'skipped', note: 'moved on while being recovered' };
  return afterRecovery(deps, record, update, webhook, why, logger);
}

/** A recovery's update is written: its next attempt is enqueued (or the delivery ended), and said. */
async function afterRecovery(deps: RecordingDeps, record: StoredDelivery, update: DeliveryUpdate, webhook: WebhookConfig | undefined, why: string, logger: Logger): Promise<DeliveryOutcome> {
  const key = deliveryKey(record);
  logger.log('NOTICE', `recovered a delivery without a live owner (${why}): now ${update.status}${update.next ? `, attempt ${update.next.number} due ${update.nextAttemptAt?.toISOString()}` : ''}`, {
    status: update.status,
    errorCode: update.errorCode,
    takeovers: update.takeovers,
  });
  const progress = { ...progressOf(update, 'retrying', continueTrace(update.traceId)), seriesFrom: seriesStart(record) };
  const about = aboutRecord(record);
  try {
    await ensureRetryScheduled(deps, key, update, webhook?.rateLimit);
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    const ended = await failInternally(deps, key, progress, error, 'scheduling the next attempt', logger, { exists: true });
    if (!ended) return { webhookId: key.webhookId, status: 'skipped', note: SUPERSEDED };
    await announceFailure(deps, key, ended, about, logger);
    return { webhookId: key.webhookId, status: ended.status, ...(ended.lastError ? { note: ended.lastError } : {}) };
  }
  logCommitted(logger, update);
  await announceFailure(deps, key, update, about, logger);
  return { webhookId: key.webhookId, status: update.status, ...(update.lastError ? { note: update.lastError } : {}) };
}

const aboutRecord = (record: Pick<StoredDelivery, 'event' | 'eventId' | 'eventType' | 'webhookName' | 'createdAt'>): DeliveryAbout => ({
  event: { id: record.event?.id ?? record.eventId, type: record.event?.type ?? (record.eventType as DeliveryAbout['event']['type']), occurredAt: record.event?.occurredAt ?? '' },
  webhookName: record.webhookName ?? null,
  createdAt: record.createdAt instanceof Date ? record.createdAt : null,
});

export interface WorkerDeps extends DeliveryDeps {
  webhooks: WebhookStore;
  secrets: SecretStore;
}

/** The HTTP answer for Cloud Tasks: 2xx once the attempt is recorded, so its own retries only cover faults. */
export interface WorkerAnswer {
  httpStatus: number;
  note: string;
}

/**
 * Runs attempt `task.attempt` of a retrying delivery: claims it, reloads the current webhook, renders
 * again, sends, records, schedules what follows. A task run twice finds the attempt recorded or
 * claimed. Throws only passing infrastructure faults (the handler answers 503).
 */
export async function continueDelivery(deps: WorkerDeps, task: RetryTask, logger: Logger, trace?: TraceContext): Promise<WorkerAnswer> {
  const key = deliveryKey(task);
  let stage = 'reading or claiming the attempt';
  try {
    const claimed = await claimTask(deps, key, task, logger);
    if ('answer' in claimed) return claimed.answer;
    // The task's trace (the record's, put on the task when it was enqueued); else the record's own.
    const recordTrace = trace ? undefined : continueTrace(claimed.record.traceId);
    if (recordTrace) logger = logger.child(traceFields(recordTrace));
    return await runClaimed(deps, key, task, claimed.record, { number: claimed.planned.number, since: claimed.claimedAt }, claimed.planned, logger, trace ?? recordTrace);
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    // Reading or claiming failed for a reason a rerun would meet again: end it without the read.
    const message = recordedErrorText(errorMessage(error));
    logger.log('ERROR', `delivery ended by an internal error while ${stage}: ${message}`, { errorCode: 'internal_error', stage, stack: (error as Error)?.stack ?? null });
    stage = 'ending the delivery';
    try {
      const ended = await deps.deliveries.end(key, { status: 'failed', errorCode: 'internal_error', lastError: `internal error while reading or claiming attempt ${task.attempt}: ${message} (hookshape's log has the details; replay the delivery once the cause is fixed)`, updatedAt: deps.clock.now() });
      if (!ended) {
        logger.log('WARNING', 'the delivery was not ended: it is gone, or it had ended meanwhile (its record stands)');
        return { httpStatus: 200, note: `internal error while reading or claiming attempt ${task.attempt}; the delivery had ended` };
      }
      logCommitted(logger, { status: 'failed', errorCode: 'internal_error', next: null, nextAttemptAt: null });
    } catch (second) {
      if (classifyFailure(second) === 'transient') throw second;
      logger.log('ERROR', `could not record the internal error of this delivery: ${errorMessage(second)}; the repair sweep will find it`, { stack: (second as Error)?.stack ?? null });
    }
    return { httpStatus: 200, note: `failed: internal error while reading or claiming attempt ${task.attempt}` };
  }
}

/** Reads the record and claims the task's attempt; anything else is an answer for Cloud Tasks. */
async function claimTask(deps: WorkerDeps, key: DeliveryKey, task: RetryTask, logger: Logger): Promise<{ answer: WorkerAnswer } | { record: StoredDelivery; planned: PlannedAttempt; claimedAt: Date }> {
  const record = await deps.deliveries.get(key);
  if (!record) {
    logger.log('WARNING', 'retry task for a delivery that does not exist (expired or deleted): ignored');
    return { answer: { httpStatus: 200, note: 'no such delivery' } };
  }
  const planned = record.next;
  if (record.status !== 'retrying' || !planned || attemptsMade(record) >= task.attempt || planned.number !== task.attempt || (planned.series ?? 0) !== (task.series ?? 0)) {
    // A task re-run after a failed enqueue repairs the chain (on the webhook's queue, if rate limited).
    // Only a repair: a lasting fault here must not end a delivery that another run may own now (the
    // caller would end it blindly); the sweep enqueues its next attempt once it is overdue.
    if (plannedTask(key, record)) {
      try {
        await ensureRetryScheduled(deps, key, record, await currentRateLimit(deps, task));
      } catch (error) {
        if (classifyFailure(error) === 'transient') throw error;
        logger.log('ERROR', `retry task already handled; re-enqueueing the delivery's next attempt failed: ${errorMessage(error)}; the repair sweep enqueues it once it is overdue`, { stack: (error as Error)?.stack ?? null });
      }
    }
    logger.log('INFO', `retry task already handled (delivery ${record.status}, ${attemptsMade(record)} attempt(s) made)`);
    return { answer: { httpStatus: 200, note: 'already handled' } };
  }
  const claimedAt = deps.clock.now();
  const claim = await deps.deliveries.modify(key, claimAttempt(planned, claimedAt, deps.timing.leaseMs));
  if (claim === 'busy') return { answer: { httpStatus: 409, note: 'attempt in progress elsewhere' } };
  if (claim === 'stale') {
    const current = await deps.deliveries.get(key);
    if (!current) return { answer: { httpStatus: 200, note: 'no such delivery' } };
    const stored = await deps.webhooks.get(task.accountId, task.webhookId);
    const parsed = stored ? parseWebhookConfig(task.accountId, task.webhookId, stored.data) : undefined;
    const outcome = await recoverDelivery(deps, current, parsed?.ok === true ? parsed.webhook : undefined, `attempt ${planned.number} in flight past its lease`, logger);
    return { answer: { httpStatus: 200, note: `recovered: ${outcome.status}` } };
  }
  if (claim !== 'claimed') return { answer: { httpStatus: 200, note: `attempt ${claim}` } };
  return { record, planned, claimedAt };
}

/** The webhook's rate limit as it is now; undefined when it has none, is gone or does not parse. */
async function currentRateLimit(deps: WorkerDeps, task: RetryTask): Promise<WebhookRateLimit | undefined> {
  const stored = await deps.webhooks.get(task.accountId, task.webhookId);
  const parsed = stored ? parseWebhookConfig(task.accountId, task.webhookId, stored.data) : undefined;
  return parsed?.ok === true ? parsed.webhook.rateLimit : undefined;
}

/** The claimed attempt: from here on a lasting fault is recorded with what was sent. */
async function runClaimed(deps: WorkerDeps, key: DeliveryKey, task: RetryTask, record: StoredDelivery, claim: ClaimToken, planned: PlannedAttempt, logger: Logger, trace: TraceContext | undefined): Promise<WorkerAnswer> {
  const progress: Progress = { ...progressOf(record, 'retrying', trace), claim };
  const about = aboutRecord(record);
  let stage = 'loading the webhook';
  try {
    const stored = await deps.webhooks.get(task.accountId, task.webhookId);
    const stop = async (status: 'failed' | 'invalid', errorCode: 'webhook_removed' | 'invalid_webhook', lastError: string): Promise<WorkerAnswer> => {
      logger.log('WARNING', `retry stopped: ${lastError}`, { errorCode });
      stage = 'recording the result';
      const written = await commitUpdate(deps, key, stateOf(progress, deps.clock.now(), { status, errorCode, lastError, nextAttemptAt: null, next: null }), progress, logger);
      if (!written) return { httpStatus: 200, note: SUPERSEDED };
      await announceFailure(deps, key, written, about, logger);
      return { httpStatus: 200, note: lastError };
    };
    if (!stored) return await stop('failed', 'webhook_removed', `webhook ${task.webhookId} was deleted before attempt ${task.attempt}`);
    if ((stored.data as { enabled?: unknown } | undefined)?.enabled === false) {
      return await stop('failed', 'webhook_removed', `webhook ${task.webhookId} was disabled before attempt ${task.attempt}`);
    }
    const parsed = parseWebhookConfig(task.accountId, task.webhookId, stored.data);
    if (!parsed.ok) return await stop('invalid', 'invalid_webhook', parsed.reason);
    stage = "loading the account's secrets";
    const secrets = await deps.secrets.secretsFor(task.accountId, secretNamesOf(parsed.webhook), parsed.webhook.signingSecretSetAt);
    progress.secretValues = Object.values(secrets);
    stage = 'rendering and sending';
    const update = await runAttempts(deps, key, record.event, parsed.webhook, secrets, planned, progress, logger);
    stage = 'recording the result';
    const written = await commitUpdate(deps, key, update, progress, logger, parsed.webhook.rateLimit);
    if (!written) return { httpStatus: 200, note: SUPERSEDED };
    // State first (the failure count the next delivery reads), then the announcements.
    await recordWebhookHealth(deps, key, written, consecutiveFailures(stored.data), logger, webhookNameOf(stored.data));
    await announceFailure(deps, key, written, about, logger);
    return { httpStatus: 200, note: written.status };
  } catch (error) {
    if (classifyFailure(error) === 'transient') {
      // Nothing left in this run: the claim is given back, so Cloud Tasks' rerun does not meet it as busy.
      if (!progress.inFlight && progress.attempts.length === record.attempts.length && progress.claim?.number === claim.number) {
        try {
          await deps.deliveries.modify(key, releaseClaim(claim, deps.clock.now()));
        } catch (release) {
          logger.log('WARNING', `could not give back the claim on attempt ${claim.number} (${errorMessage(release)}): it is taken over after the lease`);
        }
      }
      throw error;
    }
    const ended = await failInternally(deps, key, progress, error, stage, logger, { exists: true });
    if (!ended) return { httpStatus: 200, note: SUPERSEDED };
    await announceFailure(deps, key, ended, about, logger);
    return { httpStatus: 200, note: `${ended.status}: internal error while ${stage}` };
  }
}
