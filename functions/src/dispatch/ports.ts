import type { EventType } from '../events/event-catalogue.ts';
import type { DeliveryTarget } from '../render/build-request.ts';
import type { AttemptRecord, DeliveryRecord, DeliveryStatus } from '../log/delivery-record.ts';

/** A webhook document as stored, not yet validated. */
export interface StoredWebhook {
  id: string;
  data: unknown;
}

export interface WebhookStore {
  /** The account's webhook documents whose `events` contain the type (enabled or not). */
  subscribed(accountId: string, type: EventType): Promise<StoredWebhook[]>;
  get(accountId: string, webhookId: string): Promise<StoredWebhook | undefined>;
}

export interface DeliveryKey {
  accountId: string;
  webhookId: string;
  eventId: string;
}

/** The plan for the next attempt, kept on the delivery record while a retry waits. */
export interface PlannedAttempt {
  number: number;
  target: DeliveryTarget;
  attemptOfTarget: number;
}

export interface DeliveryUpdate {
  status: DeliveryStatus;
  attempts: AttemptRecord[];
  lastError: string | null;
  nextAttemptAt: Date | null;
  next: PlannedAttempt | null;
  updatedAt: Date;
}

export type StoredDelivery = DeliveryRecord & { next: PlannedAttempt | null; inFlight: { attempt: number; since: Date } | null };

export type ClaimResult = { created: true } | { created: false; existing: StoredDelivery };
export type AttemptClaim = 'claimed' | 'done' | 'busy' | 'missing';

export interface DeliveryLog {
  /** Creates the record unless one exists (the idempotency key is the document path). */
  claim(record: StoredDelivery): Promise<ClaimResult>;
  /** Takes over a pending record whose owner went silent; false when it changed meanwhile. */
  takeOver(key: DeliveryKey, seenUpdatedAt: Date, now: Date): Promise<boolean>;
  /** Marks attempt `number` as in flight unless it is recorded or freshly in flight elsewhere. */
  claimAttempt(key: DeliveryKey, number: number, now: Date, leaseMs: number): Promise<AttemptClaim>;
  update(key: DeliveryKey, update: DeliveryUpdate): Promise<void>;
  get(key: DeliveryKey): Promise<StoredDelivery | undefined>;
}

export interface InvalidEventLog {
  /** Records an unreadable message once (keyed by message id) for operators. */
  record(messageId: string, reason: string, message: { data: string | null; attributes: Record<string, string> }): Promise<void>;
}

export interface SecretStore {
  /** The account's secrets by name; only ever this account's. */
  secretsFor(accountId: string): Promise<Record<string, string>>;
}

/** What a retry task carries: identifiers only. Secrets and bodies never travel in tasks. */
export interface RetryTask {
  accountId: string;
  webhookId: string;
  eventId: string;
  attempt: number;
}

export interface RetryScheduler {
  /** Schedules the task; scheduling the same (delivery, attempt) twice is a no-op, never a second task. */
  schedule(task: RetryTask, at: Date): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
