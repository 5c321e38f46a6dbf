import type { Firestore } from '@google-cloud/firestore';
import type { AttemptClaim, ClaimResult, DeliveryKey, DeliveryLog, DeliveryUpdate, StoredDelivery } from '../dispatch/ports.ts';
import { deliveryPath } from './firestore-layout.ts';
import { fromFirestore, isAlreadyExists } from './firestore-values.ts';

/**
 * The delivery log at accounts/{a}/webhooks/{w}/deliveries/{eventId}. The document path is the
 * idempotency key: `create` fails when it exists, so a redelivered event is never sent twice.
 */
export class FirestoreDeliveryLog implements DeliveryLog {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  private doc(key: DeliveryKey) {
    return this.db.doc(deliveryPath(key.accountId, key.webhookId, key.eventId));
  }

  async claim(record: StoredDelivery): Promise<ClaimResult> {
    const ref = this.doc(record);
    try {
      await ref.create(record);
      return { created: true };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    const existing = await ref.get();
    if (!existing.exists) throw new Error(`delivery ${ref.path} vanished between create and read`);
    return { created: false, existing: fromFirestore<StoredDelivery>(existing.data()) };
  }

  async takeOver(key: DeliveryKey, seenUpdatedAt: Date, now: Date): Promise<boolean> {
    const ref = this.doc(key);
    return this.db.runTransaction(async (tx) => {
      const current = await tx.get(ref);
      const record = current.exists ? fromFirestore<StoredDelivery>(current.data()) : undefined;
      if (!record || record.status !== 'pending' || record.updatedAt.getTime() !== seenUpdatedAt.getTime()) return false;
      tx.update(ref, { updatedAt: now });
      return true;
    });
  }

  async claimAttempt(key: DeliveryKey, number: number, now: Date, leaseMs: number): Promise<AttemptClaim> {
    const ref = this.doc(key);
    return this.db.runTransaction(async (tx) => {
      const current = await tx.get(ref);
      if (!current.exists) return 'missing';
      const record = fromFirestore<StoredDelivery>(current.data());
      if (record.status !== 'retrying' || record.attempts.length >= number) return 'done';
      if (record.inFlight?.attempt === number && now.getTime() - record.inFlight.since.getTime() < leaseMs) return 'busy';
      tx.update(ref, { inFlight: { attempt: number, since: now }, updatedAt: now });
      return 'claimed';
    });
  }

  async update(key: DeliveryKey, update: DeliveryUpdate): Promise<void> {
    await this.doc(key).update({ ...update, inFlight: null });
  }

  async get(key: DeliveryKey): Promise<StoredDelivery | undefined> {
    const snapshot = await this.doc(key).get();
    return snapshot.exists ? fromFirestore<StoredDelivery>(snapshot.data()) : undefined;
  }
}
