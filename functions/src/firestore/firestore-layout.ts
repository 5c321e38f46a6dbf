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

export const INDEXED_QUERIES: readonly IndexedQuery[] = [WEBHOOKS_BY_EVENT_TYPE, DELIVERIES_BY_STATUS];
