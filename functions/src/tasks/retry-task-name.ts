import { createHash } from 'node:crypto';
import type { RetryTask } from '../delivery/ports.ts';

/**
 * The Cloud Tasks task id of a retry: a hash of (delivery, attempt). Deterministic, so a second enqueue
 * of the same attempt is refused by Cloud Tasks (ALREADY_EXISTS) instead of sending twice; hashed,
 * because Cloud Tasks advises against sequential name prefixes (they make hot spots).
 */
export function retryTaskId(task: RetryTask): string {
  // A replay's tasks add their series, so they never meet a task name (or tombstone) of an earlier series.
  const series = task.series ? `/replay-${task.series}` : '';
  // A recovery's task adds its count: the lost task's name (or its tombstone) may still be taken.
  const repair = task.repair ? `/repair-${task.repair}` : '';
  return createHash('sha256').update(`${task.accountId}/${task.webhookId}/${task.eventId}/${task.attempt}${series}${repair}`).digest('hex');
}
