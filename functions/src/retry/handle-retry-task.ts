import { z } from 'zod';
import { continueDelivery, type WorkerAnswer, type WorkerDeps } from '../delivery/deliver.ts';
import type { RetryTask } from '../delivery/ports.ts';
import { describeIssues } from '../webhooks/describe-issues.ts';
import { WEBHOOK_ID } from '../webhooks/webhook-store.ts';

export type { WorkerAnswer } from '../delivery/deliver.ts';

export interface RetryWorkerDeps extends WorkerDeps {
  /** The queue whose tasks this worker accepts (short id, as in X-CloudTasks-QueueName). */
  queueName: string;
  /** Prefix of the rate-limited webhooks' queues: a task of webhook W is accepted from W's queue too. */
  rateLimitedQueuePrefix?: string;
}

// Account and event ids come from events (events/event-message.ts); a webhook id is any Firestore
// document id, as the console may write it: a task the worker refused would leave its delivery waiting.
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/);
// No upper bound: attempt numbers grow with replays, and `repair` with every recovery of the delivery.
const count = z.number().int().min(1);
// Attempt 1 comes from a task only in a replay of a delivery that has no attempt (it was invalid), or a
// recovery of a delivery whose first attempt never started.
const taskSchema = z.object({ accountId: id, webhookId: z.string().regex(WEBHOOK_ID), eventId: id, attempt: count, series: count.optional(), repair: count.optional() });

export function parseRetryTask(body: unknown): { ok: true; task: RetryTask } | { ok: false; reason: string } {
  const result = taskSchema.safeParse(body);
  return result.success ? { ok: true, task: result.data } : { ok: false, reason: describeIssues(result.error.issues) };
}

/**
 * Runs attempt `task.attempt` of a delivery (delivery/deliver.ts). Throws only passing infrastructure
 * faults, for which the handler answers 5xx so that Cloud Tasks runs the task again.
 */
export async function handleRetryTask(deps: RetryWorkerDeps, task: RetryTask): Promise<WorkerAnswer> {
  const logger = deps.logger.child({ accountId: task.accountId, webhookId: task.webhookId, eventId: task.eventId, deliveryId: `${task.webhookId}/${task.eventId}`, attempt: task.attempt });
  return continueDelivery(deps, task, logger);
}
