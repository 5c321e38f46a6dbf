import { createHash } from 'node:crypto';
import type { WebhookRateLimit } from '../webhooks/webhook-config.ts';

/** Cloud Tasks queue ids: letters, digits and hyphens, at most 100 characters. */
export const QUEUE_ID = /^[A-Za-z0-9-]{1,100}$/;
const HASH_CHARS = 16;

/** The default prefix of the rate-limited queues: the retry queue's name, then `-rl-`. */
export const defaultRateLimitedQueuePrefix = (retryQueue: string): string => `${retryQueue}-rl-`;

/**
 * The queue of one rate-limited webhook: the prefix and a hash of (account, webhook). Hashed because
 * account and webhook ids may hold characters a queue id may not (`_`, `.`, `:`) and may be long; 16
 * hex characters (64 bits) make a collision between two webhooks of a deployment practically
 * impossible. A prefix too long for the 100-character limit is cut, so the id is always valid.
 */
export function rateLimitedQueueId(prefix: string, accountId: string, webhookId: string): string {
  const hash = createHash('sha256').update(`${accountId}/${webhookId}`).digest('hex').slice(0, HASH_CHARS);
  const safePrefix = prefix.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 100 - HASH_CHARS);
  return `${safePrefix}${hash}`;
}

/** The queue's rate_limits for a webhook's rateLimit (the gRPC client's camelCase field names). */
export interface QueueRateLimits {
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
}

/** What Cloud Tasks picks when a limit is left out (documented defaults of a new queue). */
export const DEFAULT_QUEUE_RATE_LIMITS: QueueRateLimits = { maxDispatchesPerSecond: 500, maxConcurrentDispatches: 1000 };

/**
 * Dispatches a second asked of Cloud Tasks for `perSecond`: a fifth below, because the queue's token
 * bucket starts full (max_burst_size tokens) and dispatch is not the moment the receiver sees the
 * request: the worker's own latency varies, most at the start of a burst, and shifts dispatches of one
 * second into the next. 90 % let a receiver counting by the second see 7 at 5/s once on a busy
 * machine (the Airtable test); 80 % keeps a second's share plus a late one under the limit + 1.
 */
export const RATE_HEADROOM = 0.8;

export function queueRateLimits(limit: WebhookRateLimit): QueueRateLimits {
  return {
    maxDispatchesPerSecond: limit.perSecond === undefined ? DEFAULT_QUEUE_RATE_LIMITS.maxDispatchesPerSecond : Math.round(limit.perSecond * RATE_HEADROOM * 1000) / 1000,
    maxConcurrentDispatches: limit.maxInFlight ?? DEFAULT_QUEUE_RATE_LIMITS.maxConcurrentDispatches,
  };
}

/** Whether a queue as Cloud Tasks reports it already has these limits (floats compared loosely). */
export function sameRateLimits(reported: { maxDispatchesPerSecond?: number | null; maxConcurrentDispatches?: number | null } | null | undefined, wanted: QueueRateLimits): boolean {
  return Math.abs(Number(reported?.maxDispatchesPerSecond ?? 0) - wanted.maxDispatchesPerSecond) < 1e-6 && Number(reported?.maxConcurrentDispatches ?? 0) === wanted.maxConcurrentDispatches;
}
