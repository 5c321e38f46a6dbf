/**
 * What the management API needs from the outside world, named for what it does. Adapters:
 * firestore/firestore-webhook-editor.ts, firestore-delivery-browser.ts, firestore-api-keys.ts,
 * firestore-recover-jobs.ts; secrets/ for secret writes and the token signing keys.
 */
import type { DeliveryStatus } from '../delivery/delivery-record.ts';
import type { StoredDelivery } from '../delivery/ports.ts';
import type { EventType } from '../events/event-catalogue.ts';

/** Who made a change, as the audit trail records it: `apiKey:<id>` or `token:<subject>`. */
export type Actor = string;

/** One audit entry, written in the same commit as the change it describes. */
export interface AuditEntry {
  actor: Actor;
  /** `webhook.create`, `webhook.replace`, `delivery.replay`, ... */
  action: string;
  /** The resource's path below the account: `webhooks/wh_1`, `webhooks/wh_1/deliveries/evt_1`. */
  resource: string;
  /** sha256 of the resource's canonical JSON before and after; null where it did not exist. */
  beforeHash: string | null;
  afterHash: string | null;
  requestId: string;
}

/** A webhook document with its version (update time, `seconds.nanoseconds`): the ETag. */
export interface VersionedWebhook {
  id: string;
  data: Record<string, unknown>;
  version: string;
}

export type WriteResult = { ok: true; webhook: VersionedWebhook } | { ok: false; reason: 'missing' | 'exists' | 'changed' };

/**
 * The webhooks collection as the API edits it. Every write is conditional (on the version read, or on
 * absence) and commits its audit entry with it; `change` computes the new document from the current one
 * (it may run again on contention, so it must be pure) and returns undefined to write nothing.
 */
export interface WebhookEditor {
  list(accountId: string, page: { afterId: string | undefined; limit: number }): Promise<VersionedWebhook[]>;
  read(accountId: string, webhookId: string): Promise<VersionedWebhook | undefined>;
  create(accountId: string, webhookId: string, document: Record<string, unknown>, audit: (after: Record<string, unknown>) => AuditEntry): Promise<WriteResult>;
  /** `ifVersion` undefined: whatever version is current (If-Match: *, or a field flip). */
  update(
    accountId: string,
    webhookId: string,
    ifVersion: string | undefined,
    change: (current: VersionedWebhook) => Record<string, unknown> | undefined,
    audit: (before: Record<string, unknown>, after: Record<string, unknown>) => AuditEntry,
  ): Promise<WriteResult>;
  remove(accountId: string, webhookId: string, ifVersion: string | undefined, audit: (before: Record<string, unknown>) => AuditEntry): Promise<{ ok: true } | { ok: false; reason: 'missing' | 'changed' }>;
  /** An audit entry for a change made elsewhere (a replay, a secret, a recover job). */
  audit(accountId: string, entry: AuditEntry): Promise<void>;
}

/** Where the next page starts: after this record (its createdAt to the nanosecond, and its path). */
export interface DeliveryCursor {
  createdAt: string;
  path: string;
}

export interface DeliveryFilter {
  webhookId?: string | undefined;
  status?: DeliveryStatus | undefined;
  eventType?: EventType | undefined;
  /** Created at or after / before. */
  since?: Date | undefined;
  until?: Date | undefined;
}

export interface DeliveryPage {
  records: Array<{ record: StoredDelivery; cursor: DeliveryCursor }>;
  /** Whether more records match after the last one. */
  more: boolean;
}

/** The delivery log as the API reads it: an account's records across its webhooks. */
export interface DeliveryBrowser {
  list(accountId: string, filter: DeliveryFilter, page: { after: DeliveryCursor | undefined; limit: number }): Promise<DeliveryPage>;
  /** A past event of the account: this webhook's record of it first (when one is named), else any webhook's. */
  findEvent(accountId: string, eventId: string, webhookId: string | undefined): Promise<StoredDelivery | undefined>;
  /** Current records of these deliveries (missing ones are left out). */
  getAll(accountId: string, keys: ReadonlyArray<{ webhookId: string; eventId: string }>): Promise<StoredDelivery[]>;
}

/** Writes an account's secrets (Secret Manager in production, the local secrets file locally). */
export interface SecretWriter {
  /** Creates the secret or adds a new version of it; the value is never read back by the API. */
  setSecret(accountId: string, name: string, value: string): Promise<void>;
  /**
   * Copies the current value of one secret of the account to another name, read fresh (not from a
   * cache), inside the store: a signing secret's rotation keeps the value it replaces. 'missing': `from`
   * does not exist; 'same': its value is already `unlessValue` (a request sent again), nothing copied.
   */
  copySecret(accountId: string, from: string, to: string, unlessValue: string): Promise<'copied' | 'missing' | 'same'>;
}

export const RecoverJobState = ['running', 'done', 'interrupted'] as const;
export type RecoverJobState = (typeof RecoverJobState)[number];

/** A bulk recovery: which deliveries it replayed (their progress is read from their records). */
export interface RecoverJob {
  id: string;
  accountId: string;
  state: RecoverJobState;
  filter: { status: DeliveryStatus; since: Date; until: Date | null; webhookId: string | null; eventType: string | null; limit: number };
  createdAt: Date;
  updatedAt: Date;
  createdBy: Actor;
  /** Records that matched the filter (at most `limit`). */
  matched: number;
  replayed: Array<{ webhookId: string; eventId: string }>;
  skipped: Array<{ webhookId: string; eventId: string; reason: string }>;
  /** More records matched than `limit`: run another job for the rest. */
  truncated: boolean;
  error: string | null;
}

export interface RecoverJobStore {
  save(job: RecoverJob): Promise<void>;
  get(accountId: string, jobId: string): Promise<RecoverJob | undefined>;
}

/** A POST's answer kept for its Idempotency-Key (idempotency.ts): what a retry of it gets again. */
export interface KeptAnswer {
  status: number;
  /** The answer's JSON body, as sent. */
  body: string;
  headers: Record<string, string>;
}

/** An Idempotency-Key of an account: the request that holds it, and its answer once it has one. */
export interface IdempotencyRecord {
  /** sha256 of the request's method, path and body: the same key with another request is refused. */
  requestHash: string;
  startedAt: Date;
  answer: KeptAnswer | null;
}

/**
 * The Idempotency-Keys of each account (the store deletes them some time after `expiresAt`). Taking a
 * key answers an owner token: only that request may then give it its answer or free it, so a request
 * that outlived its key's take-over cannot undo the request that took it.
 */
export interface IdempotencyStore {
  /** Takes the key for this request, or reads the record that holds it. */
  begin(accountId: string, keyId: string, record: IdempotencyRecord, expiresAt: Date): Promise<{ taken: true; owner: string } | { taken: false; existing: IdempotencyRecord }>;
  /**
   * Takes over a key whose request never answered (its instance died) or whose record has expired, if
   * its record is still the one seen (`startedAt`); the owner token, or undefined when another took it.
   */
  takeOver(accountId: string, keyId: string, seenStartedAt: Date, record: IdempotencyRecord, expiresAt: Date): Promise<string | undefined>;
  /** Keeps the answer under the key, if `owner` still holds it. */
  finish(accountId: string, keyId: string, owner: string, answer: KeptAnswer): Promise<void>;
  /** Frees the key, if `owner` still holds it: the request did not succeed, and may be sent again with it. */
  release(accountId: string, keyId: string, owner: string): Promise<void>;
}
