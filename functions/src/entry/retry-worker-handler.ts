import type { Request, Response } from '@google-cloud/functions-framework';
import { classifyFailure, errorMessage } from '../core/failures.ts';
import type { RetryTask } from '../delivery/ports.ts';
import { handleRetryTask, parseRetryTask, type RetryWorkerDeps } from '../retry/handle-retry-task.ts';
import { rateLimitedQueueId } from '../tasks/rate-limited-queue.ts';

/** Whether a task may come from `queue`: the retry queue, or the rate-limited queue of its own webhook. */
export function fromAllowedQueue(deps: Pick<RetryWorkerDeps, 'queueName' | 'rateLimitedQueuePrefix'>, queue: string | undefined, task: RetryTask): boolean {
  if (queue === deps.queueName) return true;
  return deps.rateLimitedQueuePrefix !== undefined && queue === rateLimitedQueueId(deps.rateLimitedQueuePrefix, task.accountId, task.webhookId);
}

/**
 * The HTTP entry of the retry worker. In production only the Cloud Tasks invoker service account may
 * call it (IAM run.invoker, OIDC token); the Cloud Tasks headers are checked as well, so a stray call
 * that got through IAM is still refused. Answers 2xx once the attempt is recorded.
 */
export function createRetryWorkerHandler(deps: () => RetryWorkerDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const d = deps();
    const queue = req.get('X-CloudTasks-QueueName');
    const refuse = () => {
      d.logger.log('WARNING', 'retry worker refused a request that did not come from the retry queue', { queue: queue ?? null, method: req.method });
      res.status(403).json({ error: 'only Cloud Tasks of the retry queue may call this function' });
    };
    const rateLimitedQueue = queue !== d.queueName && queue !== undefined && d.rateLimitedQueuePrefix !== undefined && queue.startsWith(d.rateLimitedQueuePrefix);
    if (req.method !== 'POST' || (queue !== d.queueName && !rateLimitedQueue) || !req.get('X-CloudTasks-TaskName')) {
      refuse();
      return;
    }
    const parsed = parseRetryTask(req.body);
    // A rate-limited queue only carries tasks of its own webhook.
    if (parsed.ok && !fromAllowedQueue(d, queue, parsed.task)) {
      refuse();
      return;
    }
    if (!parsed.ok) {
      // A malformed task will never become valid: acknowledge it so Cloud Tasks does not retry it.
      d.logger.log('ERROR', `retry task ignored: ${parsed.reason}`, { task: req.get('X-CloudTasks-TaskName') ?? null });
      res.status(200).json({ ignored: parsed.reason });
      return;
    }
    try {
      const answer = await handleRetryTask(d, parsed.task);
      res.status(answer.httpStatus).json({ result: answer.note });
    } catch (error) {
      const stack = (error as Error)?.stack ?? null;
      if (classifyFailure(error) === 'transient') {
        // Firestore or Cloud Tasks failed for a moment: a 5xx makes Cloud Tasks run the task again.
        d.logger.log('ERROR', `retry attempt interrupted, Cloud Tasks will run it again: ${errorMessage(error)}`, { ...parsed.task, stack });
        res.status(503).json({ error: 'temporarily unavailable' });
        return;
      }
      // handleRetryTask records lasting faults itself; one that escapes it would fail the same way
      // again: acknowledged, and the repair sweep finds the record if it was left in flight.
      d.logger.log('ERROR', `retry attempt failed with an internal error (errorCode internal_error): ${errorMessage(error)}`, { ...parsed.task, errorCode: 'internal_error', stack });
      res.status(200).json({ result: 'internal error' });
    }
  };
}
