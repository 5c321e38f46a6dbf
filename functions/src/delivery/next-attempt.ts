import type { ErrorCode } from '../core/failures.ts';
import type { Outcome } from '../send/classify-outcome.ts';
import type { PlannedAttempt } from './ports.ts';
import { nextStep, type RetryPolicy } from './retry-policy.ts';

export const FIRST_ATTEMPT: PlannedAttempt = { number: 1, target: 'primary', attemptOfTarget: 1 };

/** What follows an attempt, with the code a failure ends with. */
export type Continuation =
  | { action: 'done'; status: 'succeeded' }
  | { action: 'done'; status: 'failed'; errorCode: ErrorCode }
  | { action: 'retry'; next: PlannedAttempt; delaySeconds: number }
  | { action: 'backup'; next: PlannedAttempt };

/** An attempt's result as the policy sees it; `unknown` (its instance died) counts as retryable. */
export type AttemptResult = Outcome | { result: 'unknown'; summary: string };

// Firestore refuses undefined fields: a series is only written when there is one.
export const seriesOf = (plan: PlannedAttempt): { series?: number } => (plan.series ? { series: plan.series } : {});

/**
 * `failedCode` says why a `failed` outcome failed (a refused destination or the receiver's answer);
 * a series that ends on a retryable result ends `retries_exhausted`.
 */
export function continuation(result: AttemptResult, plan: PlannedAttempt, hasBackup: boolean, policy: RetryPolicy, failedCode: ErrorCode = 'http_error'): Continuation {
  const outcome: Outcome = result.result === 'unknown' ? { result: 'retryable', summary: result.summary } : result;
  const step = nextStep(outcome, plan.target, plan.attemptOfTarget, hasBackup, policy);
  if (step.action === 'retry') {
    return { action: 'retry', next: { number: plan.number + 1, target: step.target, attemptOfTarget: plan.attemptOfTarget + 1, ...seriesOf(plan) }, delaySeconds: step.delaySeconds };
  }
  if (step.action === 'backup') return { action: 'backup', next: { number: plan.number + 1, target: 'backup', attemptOfTarget: 1, ...seriesOf(plan) } };
  if (step.status === 'succeeded') return { action: 'done', status: 'succeeded' };
  return { action: 'done', status: 'failed', errorCode: outcome.result === 'retryable' ? 'retries_exhausted' : failedCode };
}
