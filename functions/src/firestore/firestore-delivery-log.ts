import { randomUUID } from 'node:crypto';
import { FieldPath, type Firestore, type Timestamp } from '@google-cloud/firestore';
import type { ClaimResult, ClaimToken, DeliveryHistory, DeliveryKey, DeliveryLog, DeliveryQuery, DeliveryUpdate, ModifyChange, StaleCursor, StaleDeliveryFinder, StalePage, StaleQuery, StoredDelivery } from '../delivery/ports.ts';
import { DELIVERIES, DELIVERIES_BY_STATUS, deliveryPath, OVERDUE_RETRIES, STALE_PENDING_DELIVERIES, webhookPath } from './firestore-layout.ts';
import { createOnce, fromFirestore, isFailedPrecondition } from './firestore-values.ts';
import { GrpcStatus } from '../core/failures.ts';
import { commitAsOwner } from '../delivery/transitions.ts';
import { hasEnded } from '../delivery/delivery-record.ts';

/** Where a page of one kind ended: its last record's sort value and full path (a collection-group cursor names the document by its path). */
interface PageEnd {
  at: Date | Timestamp;
  path: string;
}

/**
 * One page of the repair sweep's query for one kind (STALE_PENDING_DELIVERIES, OVERDUE_RETRIES), oldest
 * first. Ordered by the path after the sort value (the index's implicit __name__), so a page can start
 * after the last record of the one before.
 */
export function staleQuery(db: Firestore, status: 'pending' | 'retrying', query: Pick<StaleQuery, 'pendingBefore' | 'dueBefore' | 'limit'>, after: PageEnd | undefined) {
  const { field, before } = sweepOrder(status, query);
  const ordered = db.collectionGroup(DELIVERIES).where('status', '==', status).where(field, '<=', before).orderBy(field).orderBy(FieldPath.documentId());
  return (after ? ordered.startAfter(after.at, after.path) : ordered).limit(query.limit);
}

/** A kind's sort field (its index's range field) and the bound of its query. */
const sweepOrder = (status: 'pending' | 'retrying', query: Pick<StaleQuery, 'pendingBefore' | 'dueBefore'>) =>
  status === 'pending' ? { field: pendingField!.fieldPath, before: query.pendingBefore } : { field: dueField!.fieldPath, before: query.dueBefore };

/**
 * The delivery log at accounts/{a}/webhooks/{w}/deliveries/{eventId}. The document path is the
 * idempotency key: `create` fails when it exists, so a redelivered event is never sent twice.
 */
const [statusField, createdField] = DELIVERIES_BY_STATUS.fields;
const pendingField = STALE_PENDING_DELIVERIES.fields[1];
const dueField = OVERDUE_RETRIES.fields[1];

/** Reads and conditional writes of one record before giving up; each loss means another writer moved it on. */
const MODIFY_ROUNDS = 10;

/** Lost the race to other writers every round: ABORTED, as a contended transaction, so callers retry later. */
class ContendedError extends Error {
  override readonly name = 'ContendedError';
  readonly code = GrpcStatus.ABORTED;
}

/**
 * The id of the last conditional write of a record (a random UUID per `modify` call): how a commit
 * the client retried recognises that its first try was applied. Bookkeeping of this adapter only.
 */
const WRITE_ID_FIELD = 'writeId';

export class FirestoreDeliveryLog implements DeliveryLog, DeliveryHistory, StaleDeliveryFinder {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  private doc(key: DeliveryKey) {
    return this.db.doc(deliveryPath(key.accountId, key.webhookId, key.eventId));
  }

  async claim(record: StoredDelivery): Promise<ClaimResult> {
    // The record's first write: the claim, or since the event claim the delivery's first result. Its
    // writeId tells a create retried after a lost answer from a record another run wrote.
    return createOnce<StoredDelivery>(this.doc(record), { ...record, [WRITE_ID_FIELD]: randomUUID() }, WRITE_ID_FIELD);
  }

  async modify<T>(key: DeliveryKey, change: (record: StoredDelivery | undefined) => ModifyChange<T>): Promise<T> {
    const ref = this.doc(key);
    // Optimistic, not a transaction: read, then write only if the document is still the version read
    // (lastUpdateTime precondition), else read again. A server transaction locks the document it
    // reads; an instance killed inside one (or the emulator's pessimistic locks under contention)
    // holds the record for 30 s or more, stalling every other owner of the delivery. This needs no lock
    // and one round trip less.
    // The client retries a commit whose answer was lost (UNAVAILABLE, ABORTED...): when the first try
    // was applied, the retry meets our own write and fails its precondition. Each call's writes carry
    // its own id (WRITE_ID_FIELD), so a record read again that holds it is our write: its result stands.
    const writeId = randomUUID();
    let tried: { result: T } | undefined;
    for (let round = 1; ; round += 1) {
      const current = await ref.get();
      if (tried && current.get(WRITE_ID_FIELD) === writeId) return tried.result;
      const { write, result } = change(current.exists ? fromFirestore<StoredDelivery>(current.data()) : undefined);
      if (!write || !current.exists) return result;
      try {
        await ref.update({ ...write, [WRITE_ID_FIELD]: writeId }, { lastUpdateTime: current.updateTime! });
        return result;
      } catch (error) {
        if (!isFailedPrecondition(error)) throw error;
        if (round >= MODIFY_ROUNDS) throw new ContendedError(`delivery ${ref.path} changed under ${MODIFY_ROUNDS} writes in a row`);
        tried = { result };
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * round));
      }
    }
  }

  async update(key: DeliveryKey, update: DeliveryUpdate, owner?: ClaimToken): Promise<boolean> {
    if (owner) return this.modify(key, commitAsOwner(owner, update));
    await this.doc(key).update({ ...update });
    return true;
  }

  async end(key: DeliveryKey, fields: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'lastError' | 'updatedAt'>): Promise<boolean> {
    // Only the raw status is read (a record this adapter cannot parse must still end), and the write is
    // conditional on the version read, as in `modify`: a delivery that ended meanwhile keeps its end.
    const ref = this.doc(key);
    const writeId = randomUUID();
    for (let round = 1; ; round += 1) {
      const current = await ref.get();
      if (round > 1 && current.get(WRITE_ID_FIELD) === writeId) return true;
      if (!current.exists || hasEnded(current.get('status'))) return false;
      try {
        await ref.update({ ...fields, next: null, nextAttemptAt: null, inFlight: null, [WRITE_ID_FIELD]: writeId }, { lastUpdateTime: current.updateTime! });
        return true;
      } catch (error) {
        if (!isFailedPrecondition(error)) throw error;
        if (round >= MODIFY_ROUNDS) throw new ContendedError(`delivery ${ref.path} changed under ${MODIFY_ROUNDS} writes in a row`);
      }
    }
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

  async candidates(query: StaleQuery): Promise<StalePage> {
    // The two collection-group queries Terraform indexes (STALE_PENDING_DELIVERIES, OVERDUE_RETRIES).
    const page = async (status: 'pending' | 'retrying', after: StaleCursor | null | undefined) => {
      if (after === null) return { docs: [], next: null };
      const { docs } = await staleQuery(this.db, status, query, after as unknown as PageEnd | undefined).get();
      const last = docs.at(-1);
      // Only a full page can have more after it; the next starts after its last record's sort value and path.
      const end: PageEnd | undefined = last && docs.length >= query.limit ? { at: last.get(sweepOrder(status, query).field), path: last.ref.path } : undefined;
      return { docs, next: end ? (end as unknown as StaleCursor) : null };
    };
    const [pending, retrying] = await Promise.all([page('pending', query.after?.pending), page('retrying', query.after?.retrying)]);
    return {
      records: [...pending.docs, ...retrying.docs].map((doc) => fromFirestore<StoredDelivery>(doc.data())),
      next: { pending: pending.next, retrying: retrying.next },
    };
  }
}
