/**
 * Where hookshape keeps things in Firestore. Paths and field names are a contract with the people who
 * edit webhooks in the console and with tools outside this project: change them only with a migration.
 */

export const ACCOUNTS = 'accounts';
export const WEBHOOKS = 'webhooks';
export const DELIVERIES = 'deliveries';
export const INVALID_EVENTS = 'invalidEvents';
/** Platform API keys of the management API, by the lookup id derived from the key (api/api-keys.ts). */
export const API_KEYS = 'apiKeys';
/** An account's audit trail: one entry per change made through the management API. */
export const AUDIT = 'audit';
/** An account's bulk recoveries started through the management API, with their progress. */
export const RECOVER_JOBS = 'recoverJobs';
/** The Idempotency-Keys of an account's POSTs (api/idempotency.ts), by the sha256 of the key; expired by TTL. */
export const IDEMPOTENCY_KEYS = 'idempotencyKeys';
/** One claim per dispatched event (delivery/ports.ts EventClaim): the idempotency check of its deliveries. */
export const EVENT_CLAIMS = 'eventClaims';

export const webhooksPath = (accountId: string): string => `${ACCOUNTS}/${accountId}/${WEBHOOKS}`;
export const webhookPath = (accountId: string, webhookId: string): string =>
  `${webhooksPath(accountId)}/${webhookId}`;
export const deliveryPath = (accountId: string, webhookId: string, eventId: string): string =>
  `${webhookPath(accountId, webhookId)}/${DELIVERIES}/${eventId}`;
export const invalidEventPath = (messageId: string): string => `${INVALID_EVENTS}/${messageId}`;
export const apiKeyPath = (lookupId: string): string => `${API_KEYS}/${lookupId}`;
export const auditPath = (accountId: string): string => `${ACCOUNTS}/${accountId}/${AUDIT}`;
export const eventClaimPath = (accountId: string, eventId: string): string => `${ACCOUNTS}/${accountId}/${EVENT_CLAIMS}/${eventId}`;
export const recoverJobPath = (accountId: string, jobId: string): string => `${ACCOUNTS}/${accountId}/${RECOVER_JOBS}/${jobId}`;
export const idempotencyKeyPath = (accountId: string, keyId: string): string => `${ACCOUNTS}/${accountId}/${IDEMPOTENCY_KEYS}/${keyId}`;

/** The delivery log's expiry field; a Firestore TTL policy deletes documents once it has passed. */
export const DELIVERY_EXPIRY_FIELD = 'expiresAt';
/** The event claims' expiry field (the same retention as the delivery log); a TTL policy deletes them. */
export const EVENT_CLAIM_EXPIRY_FIELD = 'expiresAt';
/** The Idempotency-Keys' expiry field (a day after their request); a TTL policy deletes them. */
export const IDEMPOTENCY_KEY_EXPIRY_FIELD = 'expiresAt';
/**
 * Fields of a delivery record whose shape comes from outside — the event's data (any JSON up to the
 * message limit) and the receivers' answers in `attempts` — and which no query reads: their
 * single-field indexes are off (terraform/firestore.tf). Firestore refuses a document with more than
 * 40,000 index entries (an event holding a long array would make its record unwritable, after its
 * request was sent), and every indexed value is written at each record write. The emulator indexes
 * everything and enforces no such limit, so only the offline Terraform test checks this.
 */
export const DELIVERY_UNINDEXED_FIELDS = ['event', 'attempts'] as const;

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
  usedBy: 'delivery log: deliveries of a webhook with a status (or finished: auto-disable), newest first',
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

// --- The management API's queries (api/). A test records every query the API runs in the suite and
// fails on one that is not listed here; Terraform declares the composite indexes of those that need one.

/** One account's webhooks by document id, a page at a time: the automatic index of __name__. */
export const WEBHOOKS_BY_ID: IndexedQuery = {
  usedBy: 'api: list an account\'s webhooks (pages by id)',
  collectionGroup: WEBHOOKS,
  queryScope: 'COLLECTION',
  fields: [],
  needsCompositeIndex: false,
};

const CREATED_NEWEST_FIRST = { fieldPath: 'createdAt', order: 'DESCENDING' } as const;
const equal = (fieldPath: string) => ({ fieldPath, order: 'ASCENDING' }) as const;

/** One webhook's delivery log newest first, optionally from/until a time: createdAt's automatic index. */
export const DELIVERIES_OF_WEBHOOK: IndexedQuery = {
  usedBy: 'api: deliveries of one webhook, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION',
  fields: [CREATED_NEWEST_FIRST],
  needsCompositeIndex: false,
};

export const DELIVERIES_BY_EVENT_TYPE: IndexedQuery = {
  usedBy: 'api: deliveries of one webhook of an event type, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION',
  fields: [equal('eventType'), CREATED_NEWEST_FIRST],
  needsCompositeIndex: true,
};

export const DELIVERIES_BY_STATUS_AND_EVENT_TYPE: IndexedQuery = {
  usedBy: 'api: deliveries of one webhook with a status and an event type, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION',
  fields: [equal('status'), equal('eventType'), CREATED_NEWEST_FIRST],
  needsCompositeIndex: true,
};

/** Every webhook's deliveries of one account (collection group, filtered by the record's accountId). */
export const ACCOUNT_DELIVERIES: IndexedQuery = {
  usedBy: 'api: deliveries of an account, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [equal('accountId'), CREATED_NEWEST_FIRST],
  needsCompositeIndex: true,
};

export const ACCOUNT_DELIVERIES_BY_STATUS: IndexedQuery = {
  usedBy: 'api: deliveries of an account with a status, newest first (and bulk recover); hookshape status counts them',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [equal('accountId'), equal('status'), CREATED_NEWEST_FIRST],
  needsCompositeIndex: true,
};

/**
 * `hookshape status`: an account's oldest delivery with a status (pending, retrying), oldest first. The
 * newest-first index above cannot serve it: a composite index is read in its own direction only.
 */
export const ACCOUNT_OLDEST_BY_STATUS: IndexedQuery = {
  usedBy: 'hookshape status: the oldest delivery of an account with a status (pending, retrying)',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [equal('accountId'), equal('status'), { fieldPath: 'createdAt', order: 'ASCENDING' }],
  needsCompositeIndex: true,
};

export const ACCOUNT_DELIVERIES_BY_EVENT_TYPE: IndexedQuery = {
  usedBy: 'api: deliveries of an account of an event type, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [equal('accountId'), equal('eventType'), CREATED_NEWEST_FIRST],
  needsCompositeIndex: true,
};

export const ACCOUNT_DELIVERIES_BY_STATUS_AND_EVENT_TYPE: IndexedQuery = {
  usedBy: 'api: deliveries of an account with a status and an event type, newest first',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [equal('accountId'), equal('status'), equal('eventType'), CREATED_NEWEST_FIRST],
  needsCompositeIndex: true,
};

/**
 * A past event of an account by id, whichever webhook it was delivered to (preview). Collection-group
 * scope has no automatic single-field indexes, hence a composite one even for equalities.
 */
export const ACCOUNT_EVENT: IndexedQuery = {
  usedBy: 'api: a past event of an account by id (preview)',
  collectionGroup: DELIVERIES,
  queryScope: 'COLLECTION_GROUP',
  fields: [equal('accountId'), equal('eventId')],
  needsCompositeIndex: true,
};

/** All platform API keys (a handful): listed by `hookshape keys list`, filtered in code. */
export const ALL_API_KEYS: IndexedQuery = {
  usedBy: 'api keys: list every key (CLI)',
  collectionGroup: API_KEYS,
  queryScope: 'COLLECTION',
  fields: [],
  needsCompositeIndex: false,
};

export const INDEXED_QUERIES: readonly IndexedQuery[] = [
  WEBHOOKS_BY_EVENT_TYPE,
  DELIVERIES_BY_STATUS,
  STALE_PENDING_DELIVERIES,
  OVERDUE_RETRIES,
  WEBHOOKS_BY_ID,
  DELIVERIES_OF_WEBHOOK,
  DELIVERIES_BY_EVENT_TYPE,
  DELIVERIES_BY_STATUS_AND_EVENT_TYPE,
  ACCOUNT_DELIVERIES,
  ACCOUNT_DELIVERIES_BY_STATUS,
  ACCOUNT_OLDEST_BY_STATUS,
  ACCOUNT_DELIVERIES_BY_EVENT_TYPE,
  ACCOUNT_DELIVERIES_BY_STATUS_AND_EVENT_TYPE,
  ACCOUNT_EVENT,
  ALL_API_KEYS,
];
