import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { GrpcStatus } from '../core/failures.ts';
import type { EventType } from '../events/event-catalogue.ts';
import type { StoredWebhook, WebhookStore } from '../webhooks/webhook-store.ts';
import type { WebhookDocument, WebhookDocumentStore } from '../validation/webhook-document-store.ts';
import { UNCOUNTED_FAILURES, type WebhookHealthStore } from '../delivery/ports.ts';
import type { StoredValidation } from '../validation/validate-webhook.ts';
import { DELIVERIES, DELIVERIES_BY_STATUS, webhookPath, webhooksPath, WEBHOOKS_BY_EVENT_TYPE } from './firestore-layout.ts';
import { fromFirestore, timestampOf, versionOf } from './firestore-values.ts';

const [eventsField] = WEBHOOKS_BY_EVENT_TYPE.fields;
const [statusField, createdField] = DELIVERIES_BY_STATUS.fields;

/**
 * Failures that do not count (UNCOUNTED_FAILURES) the streak reads past, beyond the `upTo` that do. A
 * longer run of them hides the success before it, and the count is then trusted. The query runs only
 * when a webhook reaches its disable threshold, so a wide margin costs little: at most this many more
 * billed reads, rarely.
 */
export const UNCOUNTED_READ_PAST = 50;

/**
 * A webhook's finished deliveries, newest created first: status in (…) + createdAt desc, served by the
 * index of DELIVERIES_BY_STATUS (`in` is an equality), enough for a streak of `upTo`.
 */
export function finishedDeliveriesQuery(db: Firestore, accountId: string, webhookId: string, upTo: number) {
  return db
    .collection(`${webhookPath(accountId, webhookId)}/${DELIVERIES}`)
    .where(statusField!.fieldPath, 'in', ['succeeded', 'failed'])
    .orderBy(createdField!.fieldPath, 'desc')
    .select(statusField!.fieldPath, 'errorCode')
    .limit(upTo + UNCOUNTED_READ_PAST);
}

export class FirestoreWebhookStore implements WebhookStore, WebhookDocumentStore, WebhookHealthStore {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  async subscribed(accountId: string, type: EventType): Promise<StoredWebhook[]> {
    // One query per (account, type); the path scopes it to this account, so no other account's
    // webhook can ever be returned.
    const snapshot = await this.db.collection(webhooksPath(accountId)).where(eventsField!.fieldPath, 'array-contains', type).get();
    return snapshot.docs.map((doc) => ({ id: doc.id, data: doc.data() }));
  }

  async get(accountId: string, webhookId: string): Promise<StoredWebhook | undefined> {
    const doc = await this.db.doc(webhookPath(accountId, webhookId)).get();
    return doc.exists ? { id: doc.id, data: doc.data() } : undefined;
  }

  async read(accountId: string, webhookId: string): Promise<WebhookDocument | undefined> {
    const doc = await this.db.doc(webhookPath(accountId, webhookId)).get();
    if (!doc.exists || !doc.updateTime) return undefined;
    return { data: doc.data() ?? {}, version: versionOf(doc.updateTime) };
  }

  async writeValidation(accountId: string, webhookId: string, validation: StoredValidation, version: string): Promise<boolean> {
    try {
      // Only the `validation` field: whatever else the document holds is the editor's.
      await this.db.doc(webhookPath(accountId, webhookId)).update({ validation }, { lastUpdateTime: timestampOf(version) });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === GrpcStatus.FAILED_PRECONDITION) return false; // changed since the update time given as precondition
      throw error;
    }
  }

  async countFailure(accountId: string, webhookId: string, at: Date): Promise<void> {
    await this.db.doc(webhookPath(accountId, webhookId)).update({ 'health.consecutiveFailures': FieldValue.increment(1), 'health.lastFailureAt': at });
  }

  async resetFailures(accountId: string, webhookId: string): Promise<void> {
    await this.db.doc(webhookPath(accountId, webhookId)).update({ 'health.consecutiveFailures': 0 });
  }

  async failureStreak(accountId: string, webhookId: string, upTo: number): Promise<number> {
    const snapshot = await finishedDeliveriesQuery(this.db, accountId, webhookId, upTo).get();
    let streak = 0;
    for (const doc of snapshot.docs) {
      if (streak >= upTo) break;
      if (doc.get('status') === 'succeeded') return streak;
      if (!UNCOUNTED_FAILURES.has(doc.get('errorCode'))) streak += 1;
    }
    return upTo;
  }

  async lowerFailures(accountId: string, webhookId: string, count: number): Promise<void> {
    const ref = this.db.doc(webhookPath(accountId, webhookId));
    await this.db.runTransaction(async (tx) => {
      const snapshot = await tx.get(ref);
      if (!snapshot.exists || snapshot.get('enabled') === false) return;
      const current = snapshot.get('health.consecutiveFailures');
      if (typeof current === 'number' && current > count) tx.update(ref, { 'health.consecutiveFailures': count });
    });
  }

  async disableIfFailing(accountId: string, webhookId: string, threshold: number, at: Date, reason: (consecutiveFailures: number) => string): Promise<number | undefined> {
    const ref = this.db.doc(webhookPath(accountId, webhookId));
    return this.db.runTransaction(async (tx) => {
      const snapshot = await tx.get(ref);
      if (!snapshot.exists) return undefined;
      const data = fromFirestore<{ enabled?: unknown; health?: { consecutiveFailures?: unknown } }>(snapshot.data());
      const count = typeof data.health?.consecutiveFailures === 'number' ? data.health.consecutiveFailures : 0;
      if (data.enabled === false || count < threshold) return undefined;
      tx.update(ref, {
        enabled: false,
        disabled: { reason: reason(count), at, consecutiveFailures: count },
        // Re-enabling starts from zero, not one failure away from the next disable.
        'health.consecutiveFailures': 0,
      });
      return count;
    });
  }
}
