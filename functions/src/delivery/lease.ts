import { randomUUID } from 'node:crypto';
import type { EventMessage } from '../events/event-message.ts';
import { hasEnded } from './delivery-record.ts';
import { FIRST_ATTEMPT } from './next-attempt.ts';
import type { EventClaim, StoredDelivery } from './ports.ts';

/**
 * A claim (a `pending` record, or an attempt in flight) older than this belongs to an instance that
 * died: it is recovered. It covers the longest invocation that holds one — the dispatch and retry
 * worker functions' 120 s timeout (Terraform checks the variables agree) — plus margin.
 */
export const CLAIM_LEASE_MS = 150_000;

/** Takeovers in a row without an attempt of known outcome; one more ends the delivery `stalled`. */
export const MAX_TAKEOVERS = 3;

/**
 * How late a retrying record's next attempt may be before the repair sweep enqueues it again: Cloud
 * Tasks runs a due task within seconds, and retries a crashed worker for a while on its own.
 */
export const DEFAULT_RETRY_OVERDUE_MS = 10 * 60_000;

/**
 * The record a delivery starts as. It is created before anything is sent with the first attempt
 * already in flight, so a crash at any later point leaves a record that says a request may have left.
 */
export function pendingDelivery(event: EventMessage, webhookId: string, webhookName: string | null, now: Date, retentionDays: number, traceId?: string): StoredDelivery {
  return {
    accountId: event.accountId,
    webhookId,
    webhookName,
    eventId: event.id,
    eventType: event.type,
    event,
    status: 'pending',
    attempts: [],
    lastError: null,
    errorCode: null,
    nextAttemptAt: null,
    next: null,
    inFlight: { ...FIRST_ATTEMPT, since: now },
    takeovers: 0,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + retentionDays * 86_400_000),
    ...(traceId ? { traceId } : {}),
  };
}

/**
 * The record a delivery to a rate-limited webhook starts as: retrying, attempt 1 planned and due now,
 * nothing in flight — the webhook's queue decides when it leaves, and the retry worker sends it.
 */
export function queuedDelivery(event: EventMessage, webhookId: string, webhookName: string | null, now: Date, retentionDays: number, traceId?: string): StoredDelivery {
  return { ...pendingDelivery(event, webhookId, webhookName, now, retentionDays, traceId), status: 'retrying', inFlight: null, next: { ...FIRST_ATTEMPT }, nextAttemptAt: now };
}

/**
 * The claim of a whole event, created before any of its deliveries is sent: attempt 1 of each of
 * `webhookIds` is in flight under it until that delivery's record exists (ports.ts EventClaim).
 */
export function eventClaimOf(event: EventMessage, webhookIds: readonly string[], now: Date, retentionDays: number, traceId?: string): EventClaim {
  return {
    accountId: event.accountId,
    eventId: event.id,
    eventType: event.type,
    webhookIds: [...webhookIds],
    claimedAt: now,
    takeovers: 0,
    claimId: randomUUID(),
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + retentionDays * 86_400_000),
    ...(traceId ? { traceId } : {}),
  };
}

/** How long a claim lives and how late a retry may be; configurable so tests need not wait 90 s. */
export interface LeaseTiming {
  leaseMs: number;
  overdueMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseMs: CLAIM_LEASE_MS, overdueMs: DEFAULT_RETRY_OVERDUE_MS };

export type Staleness = { stale: false; reason: string } | { stale: true; reason: string };

/**
 * Whether a record that is not final has no live owner: pending past its lease, an attempt in flight
 * past its lease, or a retry overdue by `overdueMs` with nothing in flight (its task was lost).
 */
export function staleness(record: StoredDelivery, now: Date, timing: LeaseTiming = DEFAULT_LEASE_TIMING): Staleness {
  const { leaseMs, overdueMs } = timing;
  const age = (since: Date) => now.getTime() - since.getTime();
  if (hasEnded(record.status)) return { stale: false, reason: `it is ${record.status}` };
  if (record.inFlight) {
    const { since } = record.inFlight;
    const number = 'number' in record.inFlight ? record.inFlight.number : record.inFlight.attempt;
    return age(since) >= leaseMs
      ? { stale: true, reason: `attempt ${number} has been in flight since ${since.toISOString()} without a result` }
      : { stale: false, reason: `attempt ${number} is in flight (since ${since.toISOString()})` };
  }
  if (record.status === 'pending') {
    return age(record.updatedAt) >= leaseMs
      ? { stale: true, reason: `pending since ${record.updatedAt.toISOString()} with no owner` }
      : { stale: false, reason: `being delivered (pending since ${record.updatedAt.toISOString()})` };
  }
  if (!record.nextAttemptAt) return { stale: true, reason: 'retrying without a next attempt' };
  return age(record.nextAttemptAt) >= overdueMs
    ? { stale: true, reason: `its next attempt was due at ${record.nextAttemptAt.toISOString()} and has not run` }
    : { stale: false, reason: `its next attempt is due at ${record.nextAttemptAt.toISOString()}` };
}
