import type { Logger } from '../log/logger.ts';
import { attemptRecord, type DeliveryStatus } from './delivery-record.ts';
import { buildRequest } from '../render/build-request.ts';
import type { TemplateEngine } from '../render/template-engine.ts';
import { nextStep, type RetrySettings } from './retry-policy.ts';
import { classifyOutcome } from '../send/classify-outcome.ts';
import type { HttpSender } from '../send/http-sender.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';
import type { Clock } from '../core/ports.ts';
import type { DeliveryKey, DeliveryLog, DeliveryUpdate, PlannedAttempt, RetryScheduler, StoredDelivery, WebhookHealthStore } from './ports.ts';

export interface DeliveryDeps {
  engine: TemplateEngine;
  sender: HttpSender;
  deliveries: DeliveryLog;
  scheduler: RetryScheduler;
  clock: Clock;
  logger: Logger;
  retry: RetrySettings;
  /** Auto-disable after consecutive failed deliveries; absent (or 0): never. */
  autoDisable?: { afterFailures: number; health: WebhookHealthStore };
}

export const FIRST_ATTEMPT: PlannedAttempt = { number: 1, target: 'primary', attemptOfTarget: 1 };

export const deliveryKey = (record: Pick<StoredDelivery, 'accountId' | 'webhookId' | 'eventId'>): DeliveryKey => ({
  accountId: record.accountId,
  webhookId: record.webhookId,
  eventId: record.eventId,
});

/**
 * Sends the planned attempt and, when the primary fails for good and a backup exists, the backup's
 * first attempt right after. Returns the record's new state; the caller writes it and schedules the retry.
 */
export async function runAttempts(
  deps: DeliveryDeps,
  record: StoredDelivery,
  webhook: WebhookConfig,
  secrets: Record<string, string>,
  planned: PlannedAttempt,
  logger: Logger,
): Promise<DeliveryUpdate> {
  const attempts = [...record.attempts];
  const finish = (update: Omit<DeliveryUpdate, 'attempts' | 'updatedAt'>): DeliveryUpdate => ({ ...update, attempts, updatedAt: deps.clock.now() });
  let plan = planned;
  for (;;) {
    const built = await buildRequest(webhook, record.event, secrets, deps.engine, plan.target, deps.clock.now());
    if (!built.ok) {
      const lastError = `webhook ${webhook.id}: ${built.error.message}`;
      logger.log('WARNING', 'delivery invalid: the webhook does not render to a valid request', { field: built.error.field, error: lastError });
      return finish({ status: 'invalid', lastError, nextAttemptAt: null, next: null });
    }
    const startedAt = deps.clock.now();
    const sent = await deps.sender.send(built.request);
    const outcome = classifyOutcome(sent, deps.clock.now());
    const entry = attemptRecord({ ...plan, startedAt, request: built.request, sent, outcome });
    attempts.push(entry);
    const step = nextStep(outcome, plan.target, plan.attemptOfTarget, webhook.backupUrl !== undefined, deps.retry);
    logger.log(outcome.result === 'succeeded' ? 'INFO' : 'WARNING', `attempt ${plan.number} (${plan.target}) ${outcome.result}: ${entry.summary}`, {
      attempt: plan.number,
      target: plan.target,
      outcome: outcome.result,
      status: sent.kind === 'response' ? sent.status : null,
      durationMs: sent.durationMs,
    });
    if (step.action === 'done') {
      return finish({ status: step.status, lastError: step.status === 'succeeded' ? null : entry.summary, nextAttemptAt: null, next: null });
    }
    if (step.action === 'retry') {
      const nextAttemptAt = new Date(deps.clock.now().getTime() + step.delaySeconds * 1000);
      const next = { number: plan.number + 1, target: step.target, attemptOfTarget: plan.attemptOfTarget + 1, ...series(plan) };
      return finish({ status: 'retrying', lastError: entry.summary, nextAttemptAt, next });
    }
    plan = { number: plan.number + 1, target: 'backup', attemptOfTarget: 1, ...series(plan) };
  }
}

// Firestore refuses undefined fields: a series is only written when there is one.
const series = (plan: PlannedAttempt) => (plan.series ? { series: plan.series } : {});

/** Writes the new state, then makes sure the planned retry exists as a task (idempotent per attempt). */
export async function commitUpdate(deps: DeliveryDeps, key: DeliveryKey, update: DeliveryUpdate): Promise<void> {
  await deps.deliveries.update(key, update);
  await ensureRetryScheduled(deps, key, update);
}

/**
 * A retrying record must have its task. Called after every write and whenever a redelivered message or
 * task finds a record already retrying: if an earlier enqueue failed after the write, this repairs it.
 */
export async function ensureRetryScheduled(
  deps: DeliveryDeps,
  key: DeliveryKey,
  state: Pick<DeliveryUpdate, 'status' | 'next' | 'nextAttemptAt'>,
): Promise<void> {
  if (state.status !== 'retrying' || !state.next || !state.nextAttemptAt) return;
  await deps.scheduler.schedule({ ...key, attempt: state.next.number, ...series(state.next) }, state.nextAttemptAt);
}

/** `health.consecutiveFailures` as the caller read it with the webhook document. */
export function consecutiveFailures(webhookData: unknown): number {
  const value = (webhookData as { health?: { consecutiveFailures?: unknown } } | undefined)?.health?.consecutiveFailures;
  return typeof value === 'number' && value > 0 ? value : 0;
}

/**
 * Counts a delivery that ended `failed` on its webhook and disables the webhook once the count reaches
 * the threshold; a success starts the count again. On the success path it writes only when the count
 * it read was not zero, so a healthy webhook's deliveries cost no extra write. `invalid` does not
 * count: the document's validation shows those. The count read by the dispatcher may be up to
 * WEBHOOK_CACHE_SECONDS old; the transaction that disables re-reads it. Never throws: bookkeeping must
 * not turn a recorded delivery into a redelivered event.
 */
export async function recordWebhookHealth(
  deps: DeliveryDeps,
  key: DeliveryKey,
  status: DeliveryStatus,
  seenFailures: number,
  lastError: string | null,
  logger: Logger,
): Promise<void> {
  const autoDisable = deps.autoDisable;
  if (!autoDisable || autoDisable.afterFailures <= 0) return;
  try {
    if (status === 'succeeded') {
      if (seenFailures > 0) await autoDisable.health.resetFailures(key.accountId, key.webhookId);
      return;
    }
    if (status !== 'failed') return;
    const now = deps.clock.now();
    await autoDisable.health.countFailure(key.accountId, key.webhookId, now);
    if (seenFailures + 1 < autoDisable.afterFailures) return;
    const reason = (count: number) => `disabled automatically after ${count} consecutive failed deliveries; the last (event ${key.eventId}): ${lastError ?? 'failed'}`;
    const disabledAfter = await autoDisable.health.disableIfFailing(key.accountId, key.webhookId, autoDisable.afterFailures, now, reason);
    if (disabledAfter !== undefined) logger.log('NOTICE', `webhook ${key.webhookId} ${reason(disabledAfter)}`, { consecutiveFailures: disabledAfter });
  } catch (error) {
    logger.log('ERROR', `could not update the failure count of webhook ${key.webhookId}: ${(error as Error).message}`);
  }
}
