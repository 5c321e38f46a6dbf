import type { Firestore } from '@google-cloud/firestore';
import type { AttemptClaim, ClaimResult, DeliveryHistory, DeliveryKey, DeliveryLog, DeliveryQuery, DeliveryUpdate, ReplayStart, StoredDelivery } from '../delivery/ports.ts';
import { DELIVERIES, DELIVERIES_BY_STATUS, deliveryPath, webhookPath } from './firestore-layout.ts';
import { fromFirestore, isAlreadyExists } from './firestore-values.ts';

/**
 * The delivery log at accounts/{a}/webhooks/{w}/deliveries/{eventId}. The document path is the
 * idempotency key: `create` fails when it exists, so a redelivered event is never sent twice.
 */
const [statusField, createdField] = DELIVERIES_BY_STATUS.fields;

export class FirestoreDeliveryLog implements DeliveryLog, DeliveryHistory {
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

  async list(accountId: string, webhookId: string, query: DeliveryQuery): Promise<StoredDelivery[]> {
    let ref = this.db.collection(`${webhookPath(accountId, webhookId)}/${DELIVERIES}`).orderBy(createdField!.fieldPath, 'desc');
    // status == + createdAt desc is the composite index Terraform declares (DELIVERIES_BY_STATUS).
    if (query.status) ref = ref.where(statusField!.fieldPath, '==', query.status);
    if (query.since) ref = ref.where(createdField!.fieldPath, '>=', query.since);
    const snapshot = await ref.limit(query.limit).get();
    return snapshot.docs.map((doc) => fromFirestore<StoredDelivery>(doc.data()));
  }

  async startReplay(key: DeliveryKey, now: Date): Promise<ReplayStart> {
    const ref = this.doc(key);
    return this.db.runTransaction(async (tx): Promise<ReplayStart> => {
      const current = await tx.get(ref);
      if (!current.exists) return { started: false, reason: 'no such delivery' };
      const record = fromFirestore<StoredDelivery>(current.data());
      if (record.status === 'pending' || record.status === 'retrying') {
        return { started: false, reason: `it is ${record.status}${record.nextAttemptAt ? ` (next attempt at ${record.nextAttemptAt.toISOString()})` : ''}: already being delivered` };
      }
      const replays = [...(record.replays ?? []), { at: now, previousStatus: record.status }];
      const next = { number: record.attempts.length + 1, target: 'primary' as const, attemptOfTarget: 1, series: replays.length };
      tx.update(ref, { status: 'retrying', replays, next, nextAttemptAt: now, inFlight: null, updatedAt: now });
      return { started: true, record: { ...record, status: 'retrying', replays, next, nextAttemptAt: now, inFlight: null, updatedAt: now }, next };
    });
  }

  async undoReplay(key: DeliveryKey, series: number): Promise<void> {
    const ref = this.doc(key);
    await this.db.runTransaction(async (tx) => {
      const current = await tx.get(ref);
      if (!current.exists) return;
      const record = fromFirestore<StoredDelivery>(current.data());
      const replays = record.replays ?? [];
      const last = replays[replays.length - 1];
      if (record.status !== 'retrying' || record.next?.series !== series || record.attempts.length >= record.next.number || !last || replays.length !== series) return;
      tx.update(ref, { status: last.previousStatus, replays: replays.slice(0, -1), next: null, nextAttemptAt: null, updatedAt: new Date() });
    });
  }
}
