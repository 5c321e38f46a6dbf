import { FieldPath, Timestamp, type Firestore, type Query } from '@google-cloud/firestore';
import type { DeliveryBrowser, DeliveryCursor, DeliveryFilter, DeliveryPage } from '../api/ports.ts';
import type { StoredDelivery } from '../delivery/ports.ts';
import type { Logger } from '../log/logger.ts';
import { ACCOUNT_EVENT, DELIVERIES, deliveryPath, webhookPath } from './firestore-layout.ts';
import { fromFirestore, timestampOf, versionOf } from './firestore-values.ts';
import { runQuery } from './query-shape.ts';

const ACCOUNT = 'accountId';
const CREATED = 'createdAt';
const [, eventIdField] = ACCOUNT_EVENT.fields;

/**
 * The delivery log as the management API reads it. One webhook's log is a collection query on its
 * path; an account's is a collection-group query on the records' `accountId`, and every record is
 * checked to lie under the account's path as well. Newest first, then by path, so a cursor (the last
 * record's createdAt to the nanosecond and its path) resumes exactly after it. Each combination of
 * filters is an IndexedQuery of firestore-layout.ts.
 */
export class FirestoreDeliveryBrowser implements DeliveryBrowser {
  private readonly db: Firestore;
  private readonly logger: Logger;

  constructor(db: Firestore, logger: Logger) {
    this.db = db;
    this.logger = logger;
  }

  async list(accountId: string, filter: DeliveryFilter, page: { after: DeliveryCursor | undefined; limit: number }): Promise<DeliveryPage> {
    let query: Query = filter.webhookId
      ? this.db.collection(`${webhookPath(accountId, filter.webhookId)}/${DELIVERIES}`)
      : this.db.collectionGroup(DELIVERIES).where(ACCOUNT, '==', accountId);
    if (filter.status) query = query.where('status', '==', filter.status);
    if (filter.eventType) query = query.where('eventType', '==', filter.eventType);
    if (filter.since) query = query.where(CREATED, '>=', filter.since);
    if (filter.until) query = query.where(CREATED, '<', filter.until);
    query = query.orderBy(CREATED, 'desc').orderBy(FieldPath.documentId(), 'desc');
    if (page.after) query = query.startAfter(timestampOf(page.after.createdAt), this.db.doc(page.after.path));
    const snapshot = await runQuery(query.limit(page.limit + 1), this.logger);
    const prefix = `${webhookPath(accountId, '')}`;
    const records = snapshot.docs
      .filter((doc) => doc.ref.path.startsWith(prefix) && doc.get(ACCOUNT) === accountId)
      .slice(0, page.limit)
      .map((doc) => {
        const created = doc.get(CREATED);
        return { record: fromFirestore<StoredDelivery>(doc.data()), cursor: { createdAt: created instanceof Timestamp ? versionOf(created) : '0.000000000', path: doc.ref.path } };
      });
    return { records, more: snapshot.docs.length > page.limit };
  }

  async findEvent(accountId: string, eventId: string, webhookId: string | undefined): Promise<StoredDelivery | undefined> {
    if (webhookId !== undefined) {
      const own = await this.db.doc(deliveryPath(accountId, webhookId, eventId)).get();
      if (own.exists) return fromFirestore<StoredDelivery>(own.data());
    }
    const query = this.db.collectionGroup(DELIVERIES).where(ACCOUNT, '==', accountId).where(eventIdField!.fieldPath, '==', eventId).limit(5);
    const snapshot = await runQuery(query, this.logger);
    const found = snapshot.docs.find((doc) => doc.ref.path.startsWith(webhookPath(accountId, '')));
    return found ? fromFirestore<StoredDelivery>(found.data()) : undefined;
  }

  async getAll(accountId: string, keys: ReadonlyArray<{ webhookId: string; eventId: string }>): Promise<StoredDelivery[]> {
    const records: StoredDelivery[] = [];
    for (let start = 0; start < keys.length; start += 100) {
      const refs = keys.slice(start, start + 100).map((key) => this.db.doc(deliveryPath(accountId, key.webhookId, key.eventId)));
      if (refs.length === 0) continue;
      const snapshots = await this.db.getAll(...refs);
      for (const snapshot of snapshots) if (snapshot.exists) records.push(fromFirestore<StoredDelivery>(snapshot.data()));
    }
    return records;
  }
}
