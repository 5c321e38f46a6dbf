/**
 * The production code the integration tests use themselves, as built: test/kit/entry.ts bundled with
 * the deployable's esbuild settings into build/test-kit (scripts/build.ts, buildTestKit). npm test
 * builds it before every run, as it builds the functions, so a defect of the bundle fails the tests
 * that use these helpers too. Types come from the sources, values from the bundle.
 *
 * The bundle carries its own Firestore client: its adapters and fromFirestore know that copy's classes
 * only, so the tests make their Firestore clients from this module's Firestore (never from
 * node_modules), and read Timestamps as this module's Timestamp.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { TEST_KIT_BUNDLE } from '../../scripts/build.ts';
import type * as Kit from '../kit/entry.ts';

if (!existsSync(TEST_KIT_BUNDLE)) throw new Error(`${TEST_KIT_BUNDLE} is missing: run npm run build (npm test builds first)`);
const kit = (await import(pathToFileURL(TEST_KIT_BUNDLE).href)) as typeof Kit;

export const {
  API_KEYS,
  apiKeyPath,
  auditPath,
  CLAIM_LEASE_MS,
  classifyFailure,
  createFirestore,
  createMemoryLogger,
  CUSTOMER_SCOPES,
  CustomerTokens,
  DEFAULT_EVENTS_TOPIC,
  deliveryPath,
  DESTINATION_REFUSED,
  DocumentReference,
  EVENT_CATALOGUE,
  EVENT_TYPES,
  eventClaimOf,
  eventClaimPath,
  Firestore,
  FirestoreApiKeyStore,
  FirestoreDeliveryLog,
  FirestoreEventClaimStore,
  FirestoreIdempotencyKeys,
  FirestoreWebhookStore,
  fromFirestore,
  LocalFileSecretStore,
  GrpcStatus,
  hasEnded,
  HttpMethod,
  INDEXED_QUERIES,
  loadConfig,
  newSigningKey,
  OPERATIONAL_EVENT_TYPES,
  pendingDelivery,
  portalPath,
  QUERY_LOG_MESSAGE,
  retryTaskId,
  routes,
  sampleEvent,
  servedBy,
  STANDARD_HEADERS,
  Timestamp,
  UNCOUNTED_READ_PAST,
  webhookConfigHash,
  webhookPath,
  webhooksPath,
} = kit;

// The classes as types too (a destructured constant is a value only).
export type DocumentReference = Kit.DocumentReference;
export type Firestore = Kit.Firestore;
export type FirestoreApiKeyStore = Kit.FirestoreApiKeyStore;
export type FirestoreDeliveryLog = Kit.FirestoreDeliveryLog;
export type FirestoreEventClaimStore = Kit.FirestoreEventClaimStore;
export type Timestamp = Kit.Timestamp;
export type { DeliveryStatus, EventMessage, EventType, QueryShape, StaleCursors, StoredDelivery, StoredValidation } from '../kit/entry.ts';
