import { createHash } from 'node:crypto';
import type { Clock, SecretStore } from '../core/ports.ts';
import type { DeliveryLog, RetryScheduler } from '../delivery/ports.ts';
import type { LeaseTiming } from '../delivery/lease.ts';
import type { RetrySettings } from '../delivery/retry-policy.ts';
import type { Logger } from '../log/logger.ts';
import type { PortalSettings } from './portal-static.ts';
import type { TemplateEngine } from '../render/template-engine.ts';
import type { HttpSender } from '../send/http-sender.ts';
import { stableJson } from '../validation/config-hash.ts';
import type { ApiKeyStore } from './api-keys.ts';
import type { Principal } from './authenticate.ts';
import type { CustomerTokens } from './customer-tokens.ts';
import type { AuditEntry, DeliveryBrowser, IdempotencyStore, RecoverJobStore, SecretWriter, WebhookEditor } from './ports.ts';

/** Everything the management API uses, built once per instance (entry/api-dependencies.ts). */
export interface ApiDeps {
  webhooks: WebhookEditor;
  browser: DeliveryBrowser;
  /** The delivery log of the state machine: replays run its transitions through it. */
  deliveries: DeliveryLog;
  jobs: RecoverJobStore;
  /** The Idempotency-Keys of POSTs that create (idempotency.ts). */
  idempotency: IdempotencyStore;
  keys: ApiKeyStore;
  tokens: CustomerTokens;
  secrets: SecretStore;
  secretWriter: SecretWriter | undefined;
  engine: TemplateEngine;
  sender: HttpSender;
  scheduler: RetryScheduler;
  clock: Clock;
  logger: Logger;
  retry: RetrySettings;
  timing: LeaseTiming;
  retentionDays: number;
  allowLoopback: boolean;
  corsOrigins: readonly string[];
  portalUrl: string | undefined;
  /** The portal served at /portal/ (portal-static.ts); absent: none. */
  portal?: PortalSettings;
}

/** What a handler knows about the request beyond its parameters. */
export interface RequestContext {
  principal: Principal;
  requestId: string;
  logger: Logger;
  /** scheme://host the request came to (for the portal URL). */
  origin: string;
}

/** sha256 of a value's canonical JSON (keys sorted): the audit trail's before/after. */
export const contentHash = (value: unknown): string | null => (value === undefined ? null : createHash('sha256').update(stableJson(value)).digest('hex'));

export const auditEntry = (context: RequestContext, action: string, resource: string, before: unknown, after: unknown): AuditEntry => ({
  actor: context.principal.actor,
  action,
  resource,
  beforeHash: contentHash(before),
  afterHash: contentHash(after),
  requestId: context.requestId,
});
