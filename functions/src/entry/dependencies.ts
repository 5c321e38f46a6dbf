import type { Firestore } from '@google-cloud/firestore';
import type { LookupFunction } from 'node:net';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import type { DispatchDeps } from '../dispatch/dispatch-event.ts';
import { systemClock, type Clock, type SecretStore } from '../core/ports.ts';
import { type RetryScheduler } from '../delivery/ports.ts';
import type { SecretWriter } from '../api/ports.ts';
import { createFirestore } from '../firestore/firestore-client.ts';
import { FirestoreDeliveryLog } from '../firestore/firestore-delivery-log.ts';
import { FirestoreEventClaimStore } from '../firestore/firestore-event-claims.ts';
import { FirestoreInvalidEventLog } from '../firestore/firestore-invalid-event-log.ts';
import { FirestoreWebhookStore } from '../firestore/firestore-webhook-store.ts';
import { createJsonLogger, type Logger } from '../log/logger.ts';
import { TemplateEngine } from '../render/template-engine.ts';
import type { RepairDeps } from '../delivery/repair.ts';
import type { RetryWorkerDeps } from '../retry/handle-retry-task.ts';
import { LocalFileSecretStore, noSecrets } from '../secrets/local-file-secret-store.ts';
import { SecretManagerSecretStore } from '../secrets/secret-manager-secret-store.ts';
import type { DeadLetterDeps } from '../events/dead-letters.ts';
import type { OperationsPublisher } from '../events/operational-events.ts';
import { PubSubOperationsPublisher } from '../pubsub/pubsub-operations-publisher.ts';
import { GotHttpSender } from '../send/got-http-sender.ts';
import { OAuth2Tokens } from '../send/oauth2-tokens.ts';
import type { HttpSender } from '../send/http-sender.ts';
import { CloudTasksRetryScheduler } from '../tasks/cloud-tasks-retry-scheduler.ts';
import type { ValidationDeps } from '../validation/validate-stored-webhook.ts';
import { CachedWebhookStore } from '../webhooks/cached-webhook-store.ts';

export type Dependencies = DispatchDeps & RetryWorkerDeps & ValidationDeps & RepairDeps;

/** Replaceable parts, for tests that need a custom resolver, clock or logger. */
export interface DependencyOverrides {
  firestore?: Firestore;
  logger?: Logger;
  clock?: Clock;
  lookup?: LookupFunction;
  sender?: HttpSender;
  scheduler?: RetryScheduler;
  secrets?: SecretStore;
  operations?: OperationsPublisher;
}

/**
 * Concurrent deliveries of one event: all of them up to this cap (MAX_WEBHOOKS_PER_EVENT is 50 by
 * default). With one claim per event nothing is written before a delivery's request leaves, so 16 at a
 * time only queued the rest behind their neighbours' answers and result writes: 100 webhooks reached
 * their last receiver 3x sooner all at once (bench fanOut, 2026-12-07). In flight on an instance at most
 * dispatch_concurrency x this: 20 x 50 = 1,000 by default, what the bench's memory figure measures.
 */
const FAN_OUT_CONCURRENCY_CAP = 100;

/** The account secrets of the configured source; the real stores also write (the management API's secrets). */
export function secretStore(config: RuntimeConfig): SecretStore & Partial<SecretWriter> {
  switch (config.secrets.source) {
    case 'local-file':
      if (!config.secrets.localFile) throw new Error('SECRETS_SOURCE=local-file needs LOCAL_SECRETS_FILE');
      return new LocalFileSecretStore(config.secrets.localFile);
    case 'secret-manager':
      return new SecretManagerSecretStore(config.projectId);
    default:
      return noSecrets;
  }
}

/** Retries as Cloud Tasks on the configured queue (or a rate-limited webhook's own), aimed at the retry worker. */
export function retryScheduler(config: RuntimeConfig, logger?: Logger): RetryScheduler {
  return new CloudTasksRetryScheduler({
    projectId: config.projectId,
    location: config.tasks.location,
    queue: config.tasks.queue,
    rateLimitedQueuePrefix: config.tasks.rateLimitedQueuePrefix,
    ...(logger
      ? {
          onQueueChange: (change) =>
            logger.log('NOTICE', `rate-limited queue ${change.action}: ${change.queue} (${change.rateLimits.maxDispatchesPerSecond}/s, ${change.rateLimits.maxConcurrentDispatches} at once, burst ${change.maxBurstSize ?? 'not reported'})`, {
              queue: change.queue,
              ...change.rateLimits,
              maxBurstSize: change.maxBurstSize ?? null,
            }),
        }
      : {}),
    workerUrl: config.tasks.workerUrl,
    invokerServiceAccount: config.tasks.invokerServiceAccount,
    emulatorHost: config.tasks.emulatorHost,
  });
}

/**
 * What deadLetterNotify needs, and nothing more: a logger, the clock and the operations publisher (it
 * reads no Firestore, no secrets; a dispatcher that is failing must not take it down with it).
 */
export function createDeadLetterDependencies(config: RuntimeConfig, overrides: Pick<DependencyOverrides, 'logger' | 'clock' | 'operations'> = {}): DeadLetterDeps {
  return {
    logger: overrides.logger ?? createJsonLogger(undefined, {}, { projectId: config.projectId }),
    clock: overrides.clock ?? systemClock,
    operations: overrides.operations ?? new PubSubOperationsPublisher(config.projectId, config.operationsTopic),
  };
}

/** Builds every adapter once per instance: clients, agents and the template cache outlive invocations. */
export function createDependencies(config: RuntimeConfig, overrides: DependencyOverrides = {}): Dependencies {
  const clock = overrides.clock ?? systemClock;
  const db = overrides.firestore ?? createFirestore(config.projectId);
  const webhookDocuments = new FirestoreWebhookStore(db);
  const deliveries = new FirestoreDeliveryLog(db);
  const logger = overrides.logger ?? createJsonLogger(undefined, {}, { projectId: config.projectId });
  const sender = overrides.sender ?? new GotHttpSender({ allowLoopback: config.allowLoopbackDestinations, ...(overrides.lookup ? { lookup: overrides.lookup } : {}) });
  return {
    engine: new TemplateEngine(),
    sender,
    // One token cache per instance, shared by every delivery it runs; tokens come through `sender`.
    tokens: new OAuth2Tokens(sender, clock, { allowLoopback: config.allowLoopbackDestinations }),
    deliveries,
    eventClaims: new FirestoreEventClaimStore(db),
    finder: deliveries,
    invalidEvents: new FirestoreInvalidEventLog(db),
    webhooks: new CachedWebhookStore(webhookDocuments, config.webhookCacheSeconds * 1000, clock),
    webhookDocuments,
    allowLoopback: config.allowLoopbackDestinations,
    autoDisable: { afterFailures: config.autoDisableAfterFailures, health: webhookDocuments },
    operations: overrides.operations ?? new PubSubOperationsPublisher(config.projectId, config.operationsTopic),
    secrets: overrides.secrets ?? secretStore(config),
    scheduler: overrides.scheduler ?? retryScheduler(config, logger),
    clock,
    logger,
    retry: config.retry,
    timing: config.timing,
    retentionDays: config.deliveryRetentionDays,
    concurrency: Math.min(config.maxWebhooksPerEvent, FAN_OUT_CONCURRENCY_CAP),
    maxWebhooksPerEvent: config.maxWebhooksPerEvent,
    queueName: config.tasks.queue,
    rateLimitedQueuePrefix: config.tasks.rateLimitedQueuePrefix,
  };
}
