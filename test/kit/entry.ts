/**
 * The production code the integration tests use themselves — Firestore paths, config, the event
 * catalogue, the API key store, the adapters they test on the emulator. It is not imported from here:
 * scripts/build.ts (buildTestKit) bundles this file with the deployable's esbuild settings into
 * build/test-kit, and test/support/kit.ts loads that bundle, so that the tests, like the functions they
 * run, use the code as built. Only types are imported from this file.
 */
export { newSigningKey, CUSTOMER_SCOPES, CustomerTokens } from '../../functions/src/api/customer-tokens.ts';
export { routes } from '../../functions/src/api/routes.ts';
export { DEFAULT_EVENTS_TOPIC, loadConfig } from '../../functions/src/config/runtime-config.ts';
export { classifyFailure, GrpcStatus } from '../../functions/src/core/failures.ts';
export { hasEnded, type DeliveryStatus } from '../../functions/src/delivery/delivery-record.ts';
export { CLAIM_LEASE_MS, eventClaimOf, pendingDelivery } from '../../functions/src/delivery/lease.ts';
export type { StaleCursors, StoredDelivery } from '../../functions/src/delivery/ports.ts';
export { EVENT_CATALOGUE, EVENT_TYPES, OPERATIONAL_EVENT_TYPES, sampleEvent, type EventType } from '../../functions/src/events/event-catalogue.ts';
export type { EventMessage } from '../../functions/src/events/event-message.ts';
export { portalPath } from '../../functions/src/events/operational-events.ts';
export { FirestoreApiKeyStore } from '../../functions/src/firestore/firestore-api-keys.ts';
export { createFirestore } from '../../functions/src/firestore/firestore-client.ts';
export { FirestoreDeliveryLog } from '../../functions/src/firestore/firestore-delivery-log.ts';
export { FirestoreEventClaimStore } from '../../functions/src/firestore/firestore-event-claims.ts';
export { FirestoreIdempotencyKeys } from '../../functions/src/firestore/firestore-idempotency-keys.ts';
export { FirestoreWebhookStore, UNCOUNTED_READ_PAST } from '../../functions/src/firestore/firestore-webhook-store.ts';
export { API_KEYS, apiKeyPath, auditPath, deliveryPath, eventClaimPath, INDEXED_QUERIES, webhookPath, webhooksPath } from '../../functions/src/firestore/firestore-layout.ts';
export { fromFirestore } from '../../functions/src/firestore/firestore-values.ts';
export { QUERY_LOG_MESSAGE, servedBy, type QueryShape } from '../../functions/src/firestore/query-shape.ts';
export { createMemoryLogger } from '../../functions/src/log/logger.ts';
export { LocalFileSecretStore } from '../../functions/src/secrets/local-file-secret-store.ts';
export { DESTINATION_REFUSED } from '../../functions/src/send/http-sender.ts';
export { STANDARD_HEADERS } from '../../functions/src/send/standard-headers.ts';
export { retryTaskId } from '../../functions/src/tasks/retry-task-name.ts';
export { webhookConfigHash } from '../../functions/src/validation/config-hash.ts';
export type { StoredValidation } from '../../functions/src/validation/validate-webhook.ts';
export { HttpMethod } from '../../functions/src/webhooks/webhook-config.ts';
/**
 * The bundle's own copy of the Firestore client, which the adapters above and fromFirestore use (they
 * know its classes only: a Timestamp of another copy is not `instanceof` theirs). The tests make their
 * clients from it.
 */
export { DocumentReference, Firestore, Timestamp } from '@google-cloud/firestore';
