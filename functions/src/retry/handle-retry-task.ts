import { z } from 'zod';
import { describeIssues } from '../webhooks/describe-issues.ts';
import { parseWebhookConfig } from '../webhooks/webhook-config.ts';
import { CLAIM_LEASE_MS } from '../delivery/pending-delivery.ts';
import type { RetryTask } from '../delivery/ports.ts';
import type { SecretStore } from '../core/ports.ts';
import type { WebhookStore } from '../webhooks/webhook-store.ts';
import { commitUpdate, consecutiveFailures, deliveryKey, ensureRetryScheduled, recordWebhookHealth, runAttempts, type DeliveryDeps } from '../delivery/run-attempts.ts';

export interface RetryWorkerDeps extends DeliveryDeps {
  webhooks: WebhookStore;
  secrets: SecretStore;
  /** The queue whose tasks this worker accepts (short id, as in X-CloudTasks-QueueName). */
  queueName: string;
}

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/);
// Attempt 1 comes from a task only in a replay of a delivery that has no attempt (it was invalid).
const taskSchema = z.object({ accountId: id, webhookId: id, eventId: id, attempt: z.number().int().min(1).max(1000), series: z.number().int().min(1).max(1000).optional() });

export function parseRetryTask(body: unknown): { ok: true; task: RetryTask } | { ok: false; reason: string } {
  const result = taskSchema.safeParse(body);
  return result.success ? { ok: true, task: result.data } : { ok: false, reason: describeIssues(result.error.issues) };
}

/** The HTTP answer for Cloud Tasks: 2xx once the attempt is recorded, so its own retries only cover crashes. */
export interface WorkerAnswer {
  httpStatus: number;
  note: string;
}

/**
 * Runs attempt `task.attempt` of a delivery: reloads the record (which keeps the event) and the current
 * webhook, renders again, sends, records, and schedules the next attempt if one is due. A task delivered
 * twice is recognised by the recorded attempts (and by an in-flight claim when the two overlap).
 */
export async function handleRetryTask(deps: RetryWorkerDeps, task: RetryTask): Promise<WorkerAnswer> {
  const key = deliveryKey(task);
  const logger = deps.logger.child({ accountId: task.accountId, webhookId: task.webhookId, eventId: task.eventId, deliveryId: `${task.webhookId}/${task.eventId}`, attempt: task.attempt });
  const record = await deps.deliveries.get(key);
  if (!record) {
    logger.log('WARNING', 'retry task for a delivery that does not exist (expired or deleted): ignored');
    return { httpStatus: 200, note: 'no such delivery' };
  }
  if (record.status !== 'retrying' || record.attempts.length >= task.attempt || record.next?.number !== task.attempt || (record.next.series ?? 0) !== (task.series ?? 0)) {
    await ensureRetryScheduled(deps, key, record); // a task re-run after a failed enqueue repairs the chain
    logger.log('INFO', `retry task already handled (delivery ${record.status}, ${record.attempts.length} attempt(s) recorded)`);
    return { httpStatus: 200, note: 'already handled' };
  }
  const claim = await deps.deliveries.claimAttempt(key, task.attempt, deps.clock.now(), CLAIM_LEASE_MS);
  if (claim === 'busy') return { httpStatus: 409, note: 'attempt in progress elsewhere' };
  if (claim !== 'claimed') return { httpStatus: 200, note: `attempt ${claim}` };

  const stored = await deps.webhooks.get(task.accountId, task.webhookId);
  const stop = async (status: 'failed' | 'invalid', lastError: string): Promise<WorkerAnswer> => {
    logger.log('WARNING', `retry stopped: ${lastError}`);
    await commitUpdate(deps, key, { status, attempts: record.attempts, lastError, nextAttemptAt: null, next: null, updatedAt: deps.clock.now() });
    return { httpStatus: 200, note: lastError };
  };
  if (!stored) return stop('failed', `webhook ${task.webhookId} was deleted before attempt ${task.attempt}`);
  if ((stored.data as { enabled?: unknown } | undefined)?.enabled === false) {
    return stop('failed', `webhook ${task.webhookId} was disabled before attempt ${task.attempt}`);
  }
  const parsed = parseWebhookConfig(task.accountId, task.webhookId, stored.data);
  if (!parsed.ok) return stop('invalid', parsed.reason);

  const secrets = await deps.secrets.secretsFor(task.accountId);
  const update = await runAttempts(deps, record, parsed.webhook, secrets, record.next, logger);
  await commitUpdate(deps, key, update);
  await recordWebhookHealth(deps, key, update.status, consecutiveFailures(stored.data), update.lastError, logger);
  return { httpStatus: 200, note: update.status };
}
