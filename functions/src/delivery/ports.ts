import type { DeliveryTarget } from '../render/build-request.ts';
import type { ErrorCode } from '../core/failures.ts';
import type { WebhookRateLimit } from '../webhooks/webhook-config.ts';
import type { AttemptRecord, DeliveryRecord, DeliveryStatus } from './delivery-record.ts';

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
  /**
   * The replay this attempt belongs to (1 for the first replay); absent for the original series. It is
   * part of the retry task's name, so a replay never collides with a task (or a Cloud Tasks tombstone)
   * of an earlier series of the same delivery.
   */
  series?: number;
}

/** An attempt whose request may be leaving now: written before the send, cleared with its result. */
export interface InFlightAttempt extends PlannedAttempt {
  since: Date;
}

/**
 * The in-flight mark a run wrote when it claimed its attempt (number and since): that run's writes are
 * conditioned on the record still holding it, so an owner that outlived its lease cannot overwrite
 * what a takeover (and the attempts after it) recorded.
 */
export interface ClaimToken {
  number: number;
  since: Date;
}

/** A delivery's whole state after a step; every field is written. */
export interface DeliveryUpdate {
  status: DeliveryStatus;
  attempts: AttemptRecord[];
  attemptsDropped: number;
  lastError: string | null;
  errorCode: ErrorCode | null;
  nextAttemptAt: Date | null;
  next: PlannedAttempt | null;
  inFlight: InFlightAttempt | null;
  /** Takeovers that recorded a lost attempt (`unknown`) since the last attempt with a known outcome; past MAX_TAKEOVERS the delivery is `stalled`. */
  takeovers: number;
  /** Times a recovery enqueued the next attempt again (StoredDelivery.repairs), carried along. */
  repairs: number;
  updatedAt: Date;
  /** The record's trace id, carried along (absent on older records: never written as undefined). */
  traceId?: string;
}

/** A replay asked for by an operator (`hookshape replay`): the attempts before it are kept. */
export interface ReplayEntry {
  at: Date;
  previousStatus: DeliveryStatus;
  /** Absent on older records. */
  previousErrorCode?: ErrorCode | null;
  /** The number of the replay's first attempt: the attempts before it belong to earlier series. Absent on older records. */
  firstAttempt?: number;
}

export type StoredDelivery = DeliveryRecord & {
  next: PlannedAttempt | null;
  /** Older records hold only { attempt, since }. */
  inFlight: InFlightAttempt | { attempt: number; since: Date } | null;
  takeovers?: number;
  replays?: ReplayEntry[];
  /** The replays left out of `replays` (the oldest), absent when none were. */
  replaysDropped?: number;
  /** Times the repair sweep re-enqueued the next attempt; part of its task name. */
  repairs?: number;
};

export type ClaimResult = { created: true } | { created: false; existing: StoredDelivery };

/**
 * One per event that has deliverable webhooks, at accounts/{a}/eventClaims/{eventId}: created before
 * any of the event's deliveries is sent, it is their idempotency check and the in-flight mark of every
 * first attempt. A delivery gets its own record only with its first result (DeliveryLog.claim), so an
 * event to N webhooks costs N + 1 writes. While `claimedAt` is within the lease, a delivery of the
 * event without a record is being sent by the claim's owner; after it, that owner is gone and the
 * delivery is taken over (deliver.ts recoverUnrecorded).
 */
export interface EventClaim {
  accountId: string;
  eventId: string;
  eventType: string;
  /** The event's deliverable webhooks, in the order they are delivered. */
  webhookIds: string[];
  /** When the current owner claimed the event (the dispatcher's create, or the last takeover): its lease starts here. */
  claimedAt: Date;
  /** Takeovers of the event so far; a delivery taken over without a record counts them towards MAX_TAKEOVERS. */
  takeovers: number;
  /** Random per create: a create the client retried after a lost answer recognises its own document. */
  claimId: string;
  createdAt: Date;
  updatedAt: Date;
  /** When the TTL policy may delete the claim (the delivery log's retention). */
  expiresAt: Date;
  traceId?: string;
}

export type EventClaimResult = { created: true } | { created: false; existing: EventClaim };

export interface EventClaimStore {
  /** Creates the event's claim unless one exists (the document path is the idempotency key). */
  claim(claim: EventClaim): Promise<EventClaimResult>;
  /**
   * A takeover of an event whose owner's lease passed: writes `claimedAt`/`takeovers` only if the stored
   * claim still holds `seenClaimedAt` (a write conditioned on the version read). One of several
   * concurrent takeovers wins (true); the others write nothing (false).
   */
  takeOver(accountId: string, eventId: string, seenClaimedAt: Date, change: Pick<EventClaim, 'claimedAt' | 'takeovers' | 'updatedAt'>): Promise<boolean>;
  get(accountId: string, eventId: string): Promise<EventClaim | undefined>;
}
/**
 * `claimed`: marked in flight by this caller; `stale`: in flight by an owner whose lease expired (the
 * caller recovers it); `busy`: in flight by a live owner; `done`: already recorded or no longer due.
 */
export type AttemptClaim = 'claimed' | 'done' | 'busy' | 'stale' | 'missing';

export type ModifyChange<T> = { write?: Partial<StoredDelivery>; result: T };

export interface DeliveryLog {
  /**
   * Creates the record unless one exists (the document path is the key). The dispatcher's first write
   * of a delivery is this create, with its first result; `created: false` means a takeover (or an
   * earlier run) wrote it first.
   */
  claim(record: StoredDelivery): Promise<ClaimResult>;
  /**
   * Reads the record and writes the fields `change` returns, atomically (a conditional write). The store may run
   * `change` again on contention, so it must be a pure function of the record (delivery/transitions.ts).
   */
  modify<T>(key: DeliveryKey, change: (record: StoredDelivery | undefined) => ModifyChange<T>): Promise<T>;
  /**
   * Writes the whole new state: the owner of a claim records a step. With `owner`, only while the
   * record's attempt in flight is still that claim (read, then written on condition that it did not change); false, and
   * nothing written, when a takeover moved the record on. Without it, a plain write (true).
   */
  update(key: DeliveryKey, update: DeliveryUpdate, owner?: ClaimToken): Promise<boolean>;
  /**
   * Ends a delivery that could not even be read or claimed (no parse, the attempts left as they are):
   * the last resort when reading it fails for a lasting reason, so it does not wait for the sweep.
   * Only a delivery not ended yet: false, and nothing written, when it is gone or already succeeded,
   * failed or invalid (another run may have finished it meanwhile).
   */
  end(key: DeliveryKey, fields: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'lastError' | 'updatedAt'>): Promise<boolean>;
  get(key: DeliveryKey): Promise<StoredDelivery | undefined>;
}

declare const staleCursor: unique symbol;
/**
 * Where a page of the sweep's query ended for one kind. The finder makes it and reads it back: the core
 * only hands it over, so the store's order (its sort fields, its document paths) stays the store's.
 */
export type StaleCursor = { readonly [staleCursor]: true };

/** Per kind: where its next page starts, or null when its last page was not full (it ended). */
export interface StaleCursors {
  pending: StaleCursor | null;
  retrying: StaleCursor | null;
}

export interface StaleQuery {
  /** `pending` records last updated at or before this. */
  pendingBefore: Date;
  /** `retrying` records whose next attempt was due at or before this. */
  dueBefore: Date;
  /** Of each kind. */
  limit: number;
  /** The next page: each kind after its cursor (a kind that ended is not queried again). */
  after?: StaleCursors;
}

export interface StalePage {
  records: StoredDelivery[];
  next: StaleCursors;
}

/** The repair sweep's query, across every account (collection group, oldest first), a page at a time. */
export interface StaleDeliveryFinder {
  candidates(query: StaleQuery): Promise<StalePage>;
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  /** Created at or after. */
  since?: Date;
  limit: number;
}

export type ReplayStart =
  | { started: true; record: StoredDelivery; next: PlannedAttempt & { series: number } }
  | { started: false; reason: string };

/** What operators read of the log (the CLI). */
export interface DeliveryHistory {
  /** A webhook's deliveries, newest first (DELIVERIES_BY_STATUS when filtered by status). */
  list(accountId: string, webhookId: string, query: DeliveryQuery): Promise<StoredDelivery[]>;
}

/** What a retry task carries: identifiers only. Secrets and bodies never travel in tasks. */
export interface RetryTask {
  accountId: string;
  webhookId: string;
  eventId: string;
  attempt: number;
  /** PlannedAttempt.series: set for the attempts of a replay. */
  series?: number;
  /** StoredDelivery.repairs: set when a recovery enqueued it, so it never meets an earlier task's name. */
  repair?: number;
  /**
   * W3C traceparent of the delivery's trace (its trace id, the scheduling span): the worker continues
   * the trace with it. Not part of the task's name. Absent on tasks enqueued before traces existed.
   */
  traceparent?: string;
}

export interface RetryScheduler {
  /**
   * Schedules the task; scheduling the same (delivery, attempt) twice is a no-op, never a second task.
   * With a `rateLimit`, on the webhook's own rate-limited queue instead of the retry queue.
   */
  schedule(task: RetryTask, at: Date, rateLimit?: WebhookRateLimit): Promise<void>;
  /**
   * Whether the task still waits in a queue (the retry queue or the webhook's rate-limited one): a
   * retry late only because its queue is throttled is not lost, and must not be taken over.
   */
  queued?(task: RetryTask): Promise<boolean>;
}

/**
 * Failed deliveries that auto-disable does not count: our own faults, and retries stopped because the
 * webhook was deleted or disabled, not the receiver's answers.
 */
export const UNCOUNTED_FAILURES: ReadonlySet<string> = new Set(['internal_error', 'stalled', 'webhook_removed']);

/** The consecutive-failure counter kept on the webhook document (`health`), and auto-disable. */
export interface WebhookHealthStore {
  /** One more delivery that ended `failed` (an atomic increment: no read). */
  countFailure(accountId: string, webhookId: string, at: Date): Promise<void>;
  /** A delivery succeeded: the count starts again. */
  resetFailures(accountId: string, webhookId: string): Promise<void>;
  /**
   * The delivery log's answer to "consecutive": of the webhook's latest finished deliveries (newest
   * created first), how many ended `failed` (one that counts: not UNCOUNTED_FAILURES) since the latest
   * success, counting up to `upTo`. The counter can overstate it: a success resets the count only if
   * the count it read with its webhook was above 0, and that copy can be older than the failures.
   * Without a success in what it reads (the log is shorter, or records expired), it cannot tell: `upTo`.
   */
  failureStreak(accountId: string, webhookId: string, upTo: number): Promise<number>;
  /**
   * Lowers the count to what failureStreak found, in a transaction: never raises it, and leaves a
   * disabled webhook alone (disabling started its count from zero; a late write must not undo that).
   */
  lowerFailures(accountId: string, webhookId: string, count: number): Promise<void>;
  /**
   * Sets `enabled: false` and `disabled: { reason, at, consecutiveFailures }` if the count has reached
   * `threshold` and the webhook is still enabled (read and written in one transaction), and starts the
   * count again. Returns the count when it disabled the webhook.
   */
  disableIfFailing(accountId: string, webhookId: string, threshold: number, at: Date, reason: (consecutiveFailures: number) => string): Promise<number | undefined>;
}

