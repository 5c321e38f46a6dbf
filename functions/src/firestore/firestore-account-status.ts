import type { Firestore, Query } from '@google-cloud/firestore';
import { DeliveryStatus } from '../delivery/delivery-record.ts';
import type { StoredDelivery } from '../delivery/ports.ts';
import { ACCOUNT_DELIVERIES_BY_STATUS, ACCOUNT_OLDEST_BY_STATUS, DELIVERIES } from './firestore-layout.ts';
import { fromFirestore } from './firestore-values.ts';

/** Statuses whose oldest record `hookshape status` shows: the ones still being delivered. */
export const UNFINISHED_STATUSES = ['pending', 'retrying'] as const satisfies readonly DeliveryStatus[];
export type UnfinishedStatus = (typeof UNFINISHED_STATUSES)[number];

const [accountField, statusField, createdField] = ACCOUNT_DELIVERIES_BY_STATUS.fields.map((field) => field.fieldPath);

/**
 * An account's deliveries created since `since` with a status, for a count() aggregation: the index of
 * ACCOUNT_DELIVERIES_BY_STATUS (its newest-first order is written out so the query is exactly that one).
 */
export function statusCountQuery(db: Firestore, accountId: string, status: DeliveryStatus, since: Date): Query {
  return db
    .collectionGroup(DELIVERIES)
    .where(accountField!, '==', accountId)
    .where(statusField!, '==', status)
    .where(createdField!, '>=', since)
    .orderBy(createdField!, 'desc');
}

/** An account's oldest delivery with a status, whenever it was created: ACCOUNT_OLDEST_BY_STATUS. */
export function oldestQuery(db: Firestore, accountId: string, status: UnfinishedStatus): Query {
  const [account, state, created] = ACCOUNT_OLDEST_BY_STATUS.fields.map((field) => field.fieldPath);
  return db.collectionGroup(DELIVERIES).where(account!, '==', accountId).where(state!, '==', status).orderBy(created!, 'asc').limit(1);
}

export interface AccountStatus {
  accountId: string;
  since: Date;
  /** Deliveries created since `since`, by their status now (Firestore count() aggregations). */
  counts: Record<DeliveryStatus, number>;
  /** The oldest pending and the oldest retrying record of the account, of any age. */
  oldest: Record<UnfinishedStatus, StoredDelivery | null>;
}

/**
 * A quick health view of an account: one count() per status (an aggregation reads index entries, not the
 * records) and one single-record query per unfinished status. Records are found by their `accountId`
 * field, which every record under accounts/<id>/ carries.
 */
export async function readAccountStatus(db: Firestore, accountId: string, since: Date): Promise<AccountStatus> {
  // One read-only transaction: every count and query sees the same snapshot, so a record changing
  // status meanwhile is counted once (and it holds no lock).
  const [counts, oldest] = await db.runTransaction((tx) => Promise.all([
    Promise.all(DeliveryStatus.map(async (status) => [status, (await tx.get(statusCountQuery(db, accountId, status, since).count())).data().count] as const)),
    Promise.all(
      UNFINISHED_STATUSES.map(async (status) => {
        const snapshot = await tx.get(oldestQuery(db, accountId, status));
        const doc = snapshot.docs[0];
        return [status, doc ? fromFirestore<StoredDelivery>(doc.data()) : null] as const;
      }),
    ),
  ]), { readOnly: true });
  return {
    accountId,
    since,
    counts: Object.fromEntries(counts) as Record<DeliveryStatus, number>,
    oldest: Object.fromEntries(oldest) as Record<UnfinishedStatus, StoredDelivery | null>,
  };
}
