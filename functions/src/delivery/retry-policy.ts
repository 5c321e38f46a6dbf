import type { DeliveryTarget } from '../render/build-request.ts';
import type { Outcome } from '../send/classify-outcome.ts';
import type { WebhookRetry } from '../webhooks/webhook-config.ts';

/**
 * Seed 001: a retryable failure is tried again after 60 s, incrementally, up to 3 times: attempt n+1 of
 * a target waits n × base (60, 120, 180 s). A Retry-After (429/503) asking for longer is honoured up to
 * a cap. When the primary fails for good and a backup URL exists, the backup gets the same series.
 * A webhook's `retry` field (issue 16) changes any of this for its own deliveries; absent, it is the seed.
 */
export const MAX_RETRIES_PER_TARGET = 3;

/** Cloud Tasks schedules a task at most 30 days ahead; a delivery's whole retry window fits in it too. */
export const MAX_RETRY_WINDOW_SECONDS = 30 * 86_400;
/** The exponential schedule's cap when the webhook sets none. */
export const DEFAULT_MAX_DELAY_SECONDS = 6 * 3600;

/** The deployment's defaults (RETRY_BASE_DELAY_SECONDS, RETRY_AFTER_CAP_SECONDS). */
export interface RetrySettings {
  baseDelaySeconds: number;
  retryAfterCapSeconds: number;
}

/** The seed's: what a deployment uses when those variables are not set. */
export const DEFAULT_RETRY_SETTINGS: RetrySettings = { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 };

/**
 * The policy one delivery follows: the deployment's defaults with the webhook's own `retry` fields
 * over them. Fields left out are the seed's (3 retries, incremental, 429 and 5xx retried).
 */
export type RetryPolicy = RetrySettings & WebhookRetry;

/** The webhook's `retry` over the deployment's defaults (only the fields it sets). */
export function retryPolicy(settings: RetrySettings, webhook: { retry?: WebhookRetry } | undefined): RetryPolicy {
  const own = webhook?.retry;
  if (!own) return settings;
  return { ...settings, ...Object.fromEntries(Object.entries(own).filter(([, value]) => value !== undefined)) };
}

/** Retries of one target after its first attempt. */
export const retriesOf = (policy: RetryPolicy): number => policy.attempts ?? (policy.schedule === 'explicit' && policy.delaysSeconds ? policy.delaysSeconds.length : MAX_RETRIES_PER_TARGET);

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
  policy: RetryPolicy,
): NextStep {
  if (outcome.result === 'succeeded') return { action: 'done', status: 'succeeded' };
  if (outcome.result === 'retryable' && attemptOfTarget <= retriesOf(policy)) {
    return { action: 'retry', target, delaySeconds: retryDelaySeconds(attemptOfTarget, outcome.retryAfterSeconds, policy) };
  }
  if (target === 'primary' && hasBackup) return { action: 'backup' };
  return { action: 'done', status: 'failed' };
}

/**
 * The schedule's wait before retry n (1-based) of a target, Retry-After aside:
 * - incremental (the seed): n × base — 60, 120, 180 s;
 * - exponential: base × 2^(n-1), capped at maxDelaySeconds (6 h unless set) — 60, 120, 240, 480 s…;
 * - explicit: the n-th of delaysSeconds, the last one repeated when the attempts outnumber them.
 * maxDelaySeconds, when set, caps every schedule.
 */
export function scheduledDelaySeconds(retry: number, policy: RetryPolicy): number {
  const base = policy.baseDelaySeconds;
  let delay: number;
  switch (policy.schedule ?? 'incremental') {
    case 'incremental':
      delay = retry * base;
      break;
    case 'exponential':
      delay = Math.min(base * 2 ** (retry - 1), policy.maxDelaySeconds ?? DEFAULT_MAX_DELAY_SECONDS);
      break;
    case 'explicit': {
      const delays = policy.delaysSeconds ?? [];
      delay = delays.length === 0 ? retry * base : delays[Math.min(retry, delays.length) - 1]!;
      break;
    }
  }
  return Math.min(delay, policy.maxDelaySeconds ?? Infinity, MAX_RETRY_WINDOW_SECONDS);
}

/** The wait before attempt n+1 of a target: the schedule's, or a longer Retry-After up to the cap. */
export function retryDelaySeconds(attemptOfTarget: number, retryAfterSeconds: number | undefined, policy: RetryPolicy): number {
  const scheduled = scheduledDelaySeconds(attemptOfTarget, policy);
  if (retryAfterSeconds === undefined || retryAfterSeconds <= scheduled) return scheduled;
  return Math.min(retryAfterSeconds, Math.max(scheduled, policy.retryAfterCapSeconds), MAX_RETRY_WINDOW_SECONDS);
}

/**
 * The longest a delivery can wait between its first and its last attempt under the policy: every
 * retry of the primary and, with a backup, of the backup, each at its scheduled wait or a Retry-After
 * up to the cap, whichever is longer. It must fit in MAX_RETRY_WINDOW_SECONDS.
 */
export function retryWindowSeconds(policy: RetryPolicy, hasBackup: boolean): number {
  let series = 0;
  for (let retry = 1; retry <= retriesOf(policy); retry += 1) series += Math.max(scheduledDelaySeconds(retry, policy), Math.min(policy.retryAfterCapSeconds, MAX_RETRY_WINDOW_SECONDS));
  return series * (hasBackup ? 2 : 1);
}
