/**
 * Where hookshape keeps things in Firestore. Paths and field names are a contract with the people who
 * edit webhooks in the console and with tools outside this project: change them only with a migration.
 */

export const ACCOUNTS = 'accounts';
export const WEBHOOKS = 'webhooks';
export const DELIVERIES = 'deliveries';
export const INVALID_EVENTS = 'invalidEvents';

export const webhooksPath = (accountId: string): string => `${ACCOUNTS}/${accountId}/${WEBHOOKS}`;
export const webhookPath = (accountId: string, webhookId: string): string =>
  `${webhooksPath(accountId)}/${webhookId}`;
export const deliveryPath = (accountId: string, webhookId: string, eventId: string): string =>
  `${webhookPath(accountId, webhookId)}/${DELIVERIES}/${eventId}`;
export const invalidEventPath = (messageId: string): string => `${INVALID_EVENTS}/${messageId}`;

/** The delivery log's expiry field; a Firestore TTL policy deletes documents once it has passed. */
export const DELIVERY_EXPIRY_FIELD = 'expiresAt';

export interface IndexedQuery {
  /** What runs this query, for humans reading a failed check. */
  usedBy: string;
  collectionGroup: string;
  queryScope: 'COLLECTION' | 'COLLECTION_GROUP';
  fields: ReadonlyArray<{ fieldPath: string; order?: 'ASCENDING' | 'DESCENDING'; arrayConfig?: 'CONTAINS' }>;
  /** Whether Firestore needs a composite index for it (a single-field filter uses the automatic ones). */
  needsCompositeIndex: boolean;
}

/**
 * The dispatcher's one query per (account, event type): `events array-contains <type>`. It filters
 * `enabled` in code rather than in the query, because a document typed in the console without an
 * `enabled` field means enabled, and `where('enabled', '==', true)` would silently skip it.
 */
export const WEBHOOKS_BY_EVENT_TYPE: IndexedQuery = {
  usedBy: 'dispatcher: webhooks of an account subscribed to an event type',
  collectionGroup: WEBHOOKS,
  queryScope: 'COLLECTION',
  fields: [{ fieldPath: 'events', arrayConfig: 'CONTAINS' }],
  needsCompositeIndex: false,
};

/** The delivery log of one webhook, newest first, optionally of one status (CLI, replay). */
export const DELIVERIES_BY_STATUS: IndexedQuery = {
  usedBy: 'delivery log: deliveries of a webhook with a status, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION',
  fields: [
    { fieldPath: 'status', order: 'ASCENDING' },
    { fieldPath: 'createdAt', order: 'DESCENDING' },
  ],
  needsCompositeIndex: true,
};

/** The repair sweep: `pending` deliveries across all accounts, oldest claim first. */
export const STALE_PENDING_DELIVERIES: IndexedQuery = {
  usedBy: 'repair sweep: pending deliveries whose claim is older than the lease',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [
    { fieldPath: 'status', order: 'ASCENDING' },
    { fieldPath: 'updatedAt', order: 'ASCENDING' },
  ],
  needsCompositeIndex: true,
};

/** The repair sweep: `retrying` deliveries across all accounts whose next attempt is overdue. */
export const OVERDUE_RETRIES: IndexedQuery = {
  usedBy: 'repair sweep: retrying deliveries whose next attempt is overdue',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [
    { fieldPath: 'status', order: 'ASCENDING' },
    { fieldPath: 'nextAttemptAt', order: 'ASCENDING' },
  ],
  needsCompositeIndex: true,
};

export const INDEXED_QUERIES: readonly IndexedQuery[] = [WEBHOOKS_BY_EVENT_TYPE, DELIVERIES_BY_STATUS, STALE_PENDING_DELIVERIES, OVERDUE_RETRIES];
