import { parseEventMessage, type EventMessage } from '../events/event-message.ts';
import type { Logger } from '../log/logger.ts';
import { failedValidation } from '../validation/validate-stored-webhook.ts';
import { summariseIssues } from '../validation/validate-webhook.ts';
import { parseWebhookConfig, type ParsedWebhook } from '../webhooks/webhook-config.ts';
import { mapConcurrent } from './map-concurrent.ts';
import type { InvalidEventLog } from './ports.ts';
import type { SecretStore } from '../core/ports.ts';
import type { StoredDelivery } from '../delivery/ports.ts';
import type { StoredWebhook, WebhookStore } from '../webhooks/webhook-store.ts';
import { CLAIM_LEASE_MS, pendingDelivery } from '../delivery/pending-delivery.ts';
import { commitUpdate, consecutiveFailures, deliveryKey, ensureRetryScheduled, FIRST_ATTEMPT, recordWebhookHealth, runAttempts, type DeliveryDeps } from '../delivery/run-attempts.ts';

export interface DispatchDeps extends DeliveryDeps {
  webhooks: WebhookStore;
  invalidEvents: InvalidEventLog;
  secrets: SecretStore;
  retentionDays: number;
  /** Deliveries of one event sent at the same time. */
  concurrency: number;
}

/** More webhooks than this on one event are recorded as invalid instead of sent: one event, bounded work. */
export const MAX_WEBHOOKS_PER_EVENT = 50;

export interface PubSubMessage {
  messageId: string;
  data: Buffer | undefined;
  attributes: Record<string, string>;
}

export type DeliveryOutcome = { webhookId: string; status: StoredDelivery['status'] | 'skipped'; note?: string };

/** Thrown so that Pub/Sub redelivers the message; what was already delivered is not sent again. */
export class RedeliverError extends Error {
  override name = 'RedeliverError';
}

/**
 * Delivers one platform event to every enabled webhook of its account subscribed to its type. Bad input
 * (an unreadable event, a broken webhook) is recorded and acknowledged; infrastructure failures throw.
 */
export async function dispatchEvent(deps: DispatchDeps, message: PubSubMessage): Promise<DeliveryOutcome[]> {
  const parsed = parseEventMessage(message.data, message.attributes);
  if (!parsed.ok) {
    deps.logger.log('WARNING', `invalid event recorded in invalidEvents/${message.messageId}: ${parsed.reason}`, { messageId: message.messageId });
    await deps.invalidEvents.record(message.messageId, parsed.reason, {
      data: message.data ? message.data.subarray(0, 16 * 1024).toString('utf8') : null,
      attributes: message.attributes,
    });
    return [];
  }
  const event = parsed.event;
  const logger = deps.logger.child({ eventId: event.id, eventType: event.type, accountId: event.accountId });
  const stored = (await deps.webhooks.subscribed(event.accountId, event.type)).sort((a, b) => a.id.localeCompare(b.id));
  const enabled = stored.filter((webhook) => (webhook.data as { enabled?: unknown } | undefined)?.enabled !== false);
  logger.log('INFO', `event received: ${enabled.length} enabled webhook(s) subscribed`, { webhooks: enabled.length, disabled: stored.length - enabled.length });
  // A webhook whose stored validation failed for its current configuration would only produce invalid
  // deliveries: skipped, without a delivery record (its document shows why).
  const skipped: DeliveryOutcome[] = [];
  const deliverable = enabled.filter((webhook) => {
    const failed = failedValidation(webhook.data);
    if (!failed) return true;
    const note = `its last validation failed: ${summariseIssues(failed.errors)}`;
    logger.log('WARNING', `webhook ${webhook.id} skipped: ${note}`, { webhookId: webhook.id, skipped: 'validation' });
    skipped.push({ webhookId: webhook.id, status: 'skipped', note });
    return false;
  });
  if (deliverable.length === 0) return skipped;

  const secrets = await deps.secrets.secretsFor(event.accountId);
  const failures: unknown[] = [];
  const outcomes = await mapConcurrent(deliverable, deps.concurrency, async (webhook, index) => {
    try {
      return await deliverToWebhook(deps, event, webhook, secrets, index < MAX_WEBHOOKS_PER_EVENT, logger.child({ webhookId: webhook.id, deliveryId: `${webhook.id}/${event.id}` }));
    } catch (error) {
      failures.push(error);
      logger.log('ERROR', `delivery interrupted, the event will be redelivered: ${(error as Error).message}`, { webhookId: webhook.id });
      return { webhookId: webhook.id, status: 'skipped' as const, note: 'interrupted' };
    }
  });
  if (failures.length > 0) {
    throw new RedeliverError(`event ${event.id}: ${failures.length} delivery(ies) interrupted: ${failures.map((error) => (error as Error).message).join('; ')}`, { cause: failures[0] });
  }
  return [...skipped, ...outcomes];
}

// The webhook cache hands out the same StoredWebhook for a whole cache period. Parsing it once keeps one
// WebhookConfig object per webhook version, which buildRequest prepares once (templates, header checks)
// instead of at every event.
const parsedWebhooks = new WeakMap<StoredWebhook, { accountId: string; parsed: ParsedWebhook }>();

function parseStoredWebhook(accountId: string, stored: StoredWebhook): ParsedWebhook {
  const known = parsedWebhooks.get(stored);
  if (known?.accountId === accountId) return known.parsed;
  const parsed = parseWebhookConfig(accountId, stored.id, stored.data);
  parsedWebhooks.set(stored, { accountId, parsed });
  return parsed;
}

async function deliverToWebhook(
  deps: DispatchDeps,
  event: EventMessage,
  stored: StoredWebhook,
  secrets: Record<string, string>,
  withinLimit: boolean,
  logger: Logger,
): Promise<DeliveryOutcome> {
  const now = deps.clock.now();
  const parsed = parseStoredWebhook(event.accountId, stored);
  const record = pendingDelivery(event, stored.id, parsed.ok ? parsed.webhook.name : null, now, deps.retentionDays);
  const key = deliveryKey(record);
  const claim = await deps.deliveries.claim(record);
  if (!claim.created) {
    const existing = claim.existing;
    if (existing.status === 'retrying') {
      // Redelivered after a failed enqueue, or just redelivered: make sure the retry exists (idempotent).
      await ensureRetryScheduled(deps, key, existing);
      return { webhookId: stored.id, status: 'skipped', note: 'already retrying' };
    }
    if (existing.status !== 'pending') {
      logger.log('INFO', `already ${existing.status}: not sent again`, { status: existing.status });
      return { webhookId: stored.id, status: 'skipped', note: `already ${existing.status}` };
    }
    const fresh = now.getTime() - existing.updatedAt.getTime() < CLAIM_LEASE_MS;
    if (fresh || !(await deps.deliveries.takeOver(key, existing.updatedAt, now))) {
      throw new RedeliverError(`delivery ${stored.id}/${event.id} is in progress elsewhere`);
    }
    logger.log('NOTICE', 'took over a delivery whose previous owner stopped before finishing');
  }

  if (!parsed.ok || !withinLimit) {
    const lastError = parsed.ok
      ? `webhook ${stored.id}: not sent: more than ${MAX_WEBHOOKS_PER_EVENT} webhooks of the account subscribe to ${event.type}`
      : parsed.reason;
    logger.log('WARNING', `delivery invalid: ${lastError}`);
    await commitUpdate(deps, key, { status: 'invalid', attempts: [], lastError, nextAttemptAt: null, next: null, updatedAt: deps.clock.now() });
    return { webhookId: stored.id, status: 'invalid', note: lastError };
  }
  const update = await runAttempts(deps, record, parsed.webhook, secrets, FIRST_ATTEMPT, logger);
  await commitUpdate(deps, key, update);
  await recordWebhookHealth(deps, key, update.status, consecutiveFailures(stored.data), update.lastError, logger);
  return { webhookId: stored.id, status: update.status };
}
