import type { EventMessage } from '../events/event-message.ts';
import type { StoredDelivery } from './ports.ts';

/**
 * A pending claim older than this belongs to an instance that died: its delivery is taken over. It
 * covers the longest invocation: a primary and a backup attempt at the 30 s timeout each, plus margin.
 */
export const CLAIM_LEASE_MS = 90_000;

/** The record a delivery starts as, claimed before anything is sent. */
export function pendingDelivery(event: EventMessage, webhookId: string, webhookName: string | null, now: Date, retentionDays: number): StoredDelivery {
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
    nextAttemptAt: null,
    next: null,
    inFlight: null,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + retentionDays * 86_400_000),
  };
}
