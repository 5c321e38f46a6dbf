import type { DeliveryTarget } from '../render/build-request.ts';
import type { Outcome } from '../send/classify-outcome.ts';

/**
 * Seed 001: a retryable failure is tried again after 60 s, incrementally, up to 3 times: attempt n+1 of
 * a target waits n × base (60, 120, 180 s). A Retry-After (429/503) asking for longer is honoured up to
 * a cap. When the primary fails for good and a backup URL exists, the backup gets the same series.
 */
export const MAX_RETRIES_PER_TARGET = 3;

export interface RetrySettings {
  baseDelaySeconds: number;
  retryAfterCapSeconds: number;
}

export type NextStep =
  | { action: 'done'; status: 'succeeded' | 'failed' }
  | { action: 'retry'; target: DeliveryTarget; delaySeconds: number }
  | { action: 'backup' };

/**
 * What follows an attempt. `attemptOfTarget` counts from 1 within the current target's series.
 */
export function nextStep(
  outcome: Outcome,
  target: DeliveryTarget,
  attemptOfTarget: number,
  hasBackup: boolean,
  settings: RetrySettings,
): NextStep {
  if (outcome.result === 'succeeded') return { action: 'done', status: 'succeeded' };
  if (outcome.result === 'retryable' && attemptOfTarget <= MAX_RETRIES_PER_TARGET) {
    return { action: 'retry', target, delaySeconds: retryDelaySeconds(attemptOfTarget, outcome.retryAfterSeconds, settings) };
  }
  if (target === 'primary' && hasBackup) return { action: 'backup' };
  return { action: 'done', status: 'failed' };
}

/** The wait before attempt n+1 of a target: n × base, or a longer Retry-After up to the cap. */
export function retryDelaySeconds(attemptOfTarget: number, retryAfterSeconds: number | undefined, settings: RetrySettings): number {
  const scheduled = attemptOfTarget * settings.baseDelaySeconds;
  if (retryAfterSeconds === undefined || retryAfterSeconds <= scheduled) return scheduled;
  return Math.min(retryAfterSeconds, Math.max(scheduled, settings.retryAfterCapSeconds));
}
