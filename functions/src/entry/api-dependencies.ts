import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Firestore } from '@google-cloud/firestore';
import type { LookupFunction } from 'node:net';
import type { ApiDeps } from '../api/api-deps.ts';
import { CustomerTokens, type SigningKeySource } from '../api/customer-tokens.ts';
import type { SecretWriter } from '../api/ports.ts';
import type { RuntimeConfig } from '../config/runtime-config.ts';
import { systemClock, type Clock, type SecretStore } from '../core/ports.ts';
import type { RetryScheduler } from '../delivery/ports.ts';
import { createFirestore } from '../firestore/firestore-client.ts';
import { FirestoreApiKeyStore } from '../firestore/firestore-api-keys.ts';
import { FirestoreDeliveryBrowser } from '../firestore/firestore-delivery-browser.ts';
import { FirestoreDeliveryLog } from '../firestore/firestore-delivery-log.ts';
import { FirestoreIdempotencyKeys } from '../firestore/firestore-idempotency-keys.ts';
import { FirestoreRecoverJobs } from '../firestore/firestore-recover-jobs.ts';
import { FirestoreWebhookEditor } from '../firestore/firestore-webhook-editor.ts';
import { createJsonLogger, type Logger } from '../log/logger.ts';
import { retryScheduler, secretStore } from './dependencies.ts';
import { TemplateEngine } from '../render/template-engine.ts';
import { FileSigningKeySource, SecretManagerSigningKeySource } from '../secrets/api-signing-keys.ts';
import { GotHttpSender } from '../send/got-http-sender.ts';
import type { HttpSender } from '../send/http-sender.ts';

export interface ApiDependencyOverrides {
  firestore?: Firestore;
  logger?: Logger;
  clock?: Clock;
  lookup?: LookupFunction;
  sender?: HttpSender;
  scheduler?: RetryScheduler;
  signingKeys?: SigningKeySource;
  portalDir?: string;
}

/** The bundle's portal folder (build/functions/portal, beside index.js); undefined when it was not built. */
function portalDirOf(moduleUrl: string): string | undefined {
  const dir = join(dirname(fileURLToPath(moduleUrl)), 'portal');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

/** Builds the management API's adapters once per instance, from the same configuration as the other functions. */
export function createApiDependencies(config: RuntimeConfig, overrides: ApiDependencyOverrides = {}): ApiDeps {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? createJsonLogger();
  const db = overrides.firestore ?? createFirestore(config.projectId);
  // The same source the dispatcher reads (test sends); the real stores also write (signing secrets).
  const secrets = secretStore(config);
  const writer: SecretWriter | undefined = secrets.setSecret ? (secrets as SecretStore & SecretWriter) : undefined;
  const jwtKeys = config.api.jwtKeys;
  const signingKeys = overrides.signingKeys ?? (jwtKeys.source === 'local-file' ? new FileSigningKeySource(jwtKeys.file) : new SecretManagerSigningKeySource(config.projectId, jwtKeys.secret));
  return {
    webhooks: new FirestoreWebhookEditor(db, logger),
    browser: new FirestoreDeliveryBrowser(db, logger),
    deliveries: new FirestoreDeliveryLog(db),
    jobs: new FirestoreRecoverJobs(db),
    idempotency: new FirestoreIdempotencyKeys(db),
    keys: new FirestoreApiKeyStore(db, logger),
    tokens: new CustomerTokens(signingKeys, clock),
    secrets,
    secretWriter: writer,
    engine: new TemplateEngine(),
    sender: overrides.sender ?? new GotHttpSender({ allowLoopback: config.allowLoopbackDestinations, ...(overrides.lookup ? { lookup: overrides.lookup } : {}) }),
    scheduler: overrides.scheduler ?? retryScheduler(config),
    clock,
    logger,
    retry: config.retry,
    timing: config.timing,
    retentionDays: config.deliveryRetentionDays,
    allowLoopback: config.allowLoopbackDestinations,
    corsOrigins: config.api.corsOrigins,
    portalUrl: config.api.portalUrl,
    portal: { dir: overrides.portalDir ?? portalDirOf(import.meta.url), frameAncestors: config.api.portalFrameAncestors, branding: config.api.portalBranding },
  };
}
