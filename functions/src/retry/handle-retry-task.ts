import { z } from 'zod';
import { continueDelivery, type WorkerAnswer, type WorkerDeps } from '../delivery/deliver.ts';
import type { RetryTask } from '../delivery/ports.ts';
import { childSpan, parseTraceparent, traceFields } from '../log/trace.ts';
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
// A traceparent is never a reason to refuse a task: a malformed one only starts a new trace.
const traceparent = z.unknown().optional().transform((value) => (typeof value === 'string' ? value.slice(0, 512) : undefined));
const taskSchema = z.object({ accountId: id, webhookId: z.string().regex(WEBHOOK_ID), eventId: id, attempt: count, series: count.optional(), repair: count.optional(), traceparent });

export function parseRetryTask(body: unknown): { ok: true; task: RetryTask } | { ok: false; reason: string } {
  const result = taskSchema.safeParse(body);
  if (!result.success) return { ok: false, reason: describeIssues(result.error.issues) };
  const { traceparent: carried, ...task } = result.data;
  return { ok: true, task: carried === undefined ? task : { ...task, traceparent: carried } };
}

/**
 * Runs attempt `task.attempt` of a delivery (delivery/deliver.ts). Throws only passing infrastructure
 * faults, for which the handler answers 5xx so that Cloud Tasks runs the task again.
 */
export async function handleRetryTask(deps: RetryWorkerDeps, task: RetryTask): Promise<WorkerAnswer> {
  const carried = parseTraceparent(task.traceparent);
  // This run is a span of its own, a child of the one that enqueued the task.
  const trace = carried ? childSpan(carried) : undefined;
  const logger = deps.logger.child({ accountId: task.accountId, webhookId: task.webhookId, eventId: task.eventId, deliveryId: `${task.webhookId}/${task.eventId}`, attempt: task.attempt, ...(trace ? traceFields(trace) : {}) });
  if (task.traceparent !== undefined && !carried) {
    logger.log('WARNING', "the retry task's traceparent is not a W3C traceparent: the delivery record's trace id is used", { traceparentInvalid: task.traceparent.slice(0, 100) });
  }
  return continueDelivery(deps, task, logger, trace);
}
