import type { DeliveryTarget } from '../render/build-request.ts';
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

export interface DeliveryUpdate {
  status: DeliveryStatus;
  attempts: AttemptRecord[];
  lastError: string | null;
  nextAttemptAt: Date | null;
  next: PlannedAttempt | null;
  updatedAt: Date;
}

/** A replay asked for by an operator (`hookshape replay`): the attempts before it are kept. */
export interface ReplayEntry {
  at: Date;
  previousStatus: DeliveryStatus;
}

export type StoredDelivery = DeliveryRecord & {
  next: PlannedAttempt | null;
  inFlight: { attempt: number; since: Date } | null;
  replays?: ReplayEntry[];
};

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

export interface DeliveryQuery {
  status?: DeliveryStatus;
  /** Created at or after. */
  since?: Date;
  limit: number;
}

export type ReplayStart =
  | { started: true; record: StoredDelivery; next: PlannedAttempt & { series: number } }
  | { started: false; reason: string };

/** What operators do with the log (the CLI): list it, and replay deliveries. */
export interface DeliveryHistory {
  /** A webhook's deliveries, newest first (DELIVERIES_BY_STATUS when filtered by status). */
  list(accountId: string, webhookId: string, query: DeliveryQuery): Promise<StoredDelivery[]>;
  /**
   * Turns a finished delivery into a retrying one whose next attempt is the first of a new series to
   * the primary, due now; the attempts so far are kept and `{ at, previousStatus }` is pushed onto
   * `replays`. Refused (in one transaction) while the delivery is pending or retrying.
   */
  startReplay(key: DeliveryKey, now: Date): Promise<ReplayStart>;
  /** Puts back a replay whose task could not be enqueued, unless an attempt of it already ran. */
  undoReplay(key: DeliveryKey, series: number): Promise<void>;
}

/** What a retry task carries: identifiers only. Secrets and bodies never travel in tasks. */
export interface RetryTask {
  accountId: string;
  webhookId: string;
  eventId: string;
  attempt: number;
  /** PlannedAttempt.series: set for the attempts of a replay. */
  series?: number;
}

export interface RetryScheduler {
  /** Schedules the task; scheduling the same (delivery, attempt) twice is a no-op, never a second task. */
  schedule(task: RetryTask, at: Date): Promise<void>;
}

/** The consecutive-failure counter kept on the webhook document (`health`), and auto-disable. */
export interface WebhookHealthStore {
  /** One more delivery that ended `failed` (an atomic increment: no read). */
  countFailure(accountId: string, webhookId: string, at: Date): Promise<void>;
  /** A delivery succeeded: the count starts again. */
  resetFailures(accountId: string, webhookId: string): Promise<void>;
  /**
   * Sets `enabled: false` and `disabled: { reason, at, consecutiveFailures }` if the count has reached
   * `threshold` and the webhook is still enabled (read and written in one transaction), and starts the
   * count again. Returns the count when it disabled the webhook.
   */
  disableIfFailing(accountId: string, webhookId: string, threshold: number, at: Date, reason: (consecutiveFailures: number) => string): Promise<number | undefined>;
}

