import { classifyFailure, errorMessage, TransientError } from '../core/failures.ts';
import type { SecretStore } from '../core/ports.ts';
import { startDelivery, type DeliveryOutcome as StartedOutcome, type LoadedSecrets } from '../delivery/deliver.ts';
import type { DeliveryDeps } from '../delivery/run-attempts.ts';
import { parseEventMessage } from '../events/event-message.ts';
import { childSpan, traceFields, traceFromAttributes } from '../log/trace.ts';
import { isAboutWebhook } from '../events/operational-events.ts';
import { failedValidation } from '../validation/validate-stored-webhook.ts';
import { summariseIssues } from '../validation/validate-webhook.ts';
import { filterEvent, type FilterVerdict } from '../webhooks/event-filter.ts';
import { parseWebhookConfig, type ParsedWebhook } from '../webhooks/webhook-config.ts';
import type { StoredWebhook, WebhookStore } from '../webhooks/webhook-store.ts';
import { mapConcurrent } from './map-concurrent.ts';
import type { InvalidEventLog } from './ports.ts';

/** What became of the event for one webhook: its delivery's outcome, or `filtered` (no delivery record). */
export type DeliveryOutcome = StartedOutcome | { webhookId: string; status: 'filtered'; note: string };

export interface DispatchDeps extends DeliveryDeps {
  webhooks: WebhookStore;
  invalidEvents: InvalidEventLog;
  secrets: SecretStore;
  retentionDays: number;
  /** Deliveries of one event sent at the same time. */
  concurrency: number;
  /** More webhooks than this on one event are recorded as not sent: one event, bounded work (MAX_WEBHOOKS_PER_EVENT). */
  maxWebhooksPerEvent: number;
}

export interface PubSubMessage {
  messageId: string;
  data: Buffer | undefined;
  attributes: Record<string, string>;
}

/** Thrown so that Pub/Sub redelivers the message; what was already delivered is not sent again. */
export class RedeliverError extends TransientError {
  override name = 'RedeliverError';
}

const rawMessage = (message: PubSubMessage) => ({
  data: message.data ? message.data.subarray(0, 16 * 1024).toString('utf8') : null,
  attributes: message.attributes,
});

/**
 * Delivers one platform event to every enabled webhook of its account subscribed to its type. Bad input
 * (an unreadable event, a broken webhook) and our own lasting faults are recorded and acknowledged; only
 * passing infrastructure faults throw (Pub/Sub redelivers, and what was delivered is not sent again).
 */
export async function dispatchEvent(deps: DispatchDeps, message: PubSubMessage): Promise<DeliveryOutcome[]> {
  // The publisher's trace (or a new one); the dispatch is a span of it, each delivery one more.
  const incoming = traceFromAttributes(message.attributes);
  const trace = incoming.source === 'message' ? childSpan(incoming.context) : incoming.context;
  const messageLogger = deps.logger.child(traceFields(trace));
  if (incoming.source === 'invalid') {
    messageLogger.log('WARNING', `the message's ${incoming.attribute} attribute is not a W3C traceparent: a new trace is started`, { messageId: message.messageId, traceparentInvalid: incoming.value });
  }
  const parsed = parseEventMessage(message.data, message.attributes);
  if (!parsed.ok) {
    messageLogger.log('WARNING', `invalid event recorded in invalidEvents/${message.messageId}: ${parsed.reason}`, { messageId: message.messageId, invalid: 'event' });
    await deps.invalidEvents.record(message.messageId, parsed.reason, rawMessage(message));
    return [];
  }
  const event = parsed.event;
  const logger = messageLogger.child({ eventId: event.id, eventType: event.type, accountId: event.accountId });
  let stored: StoredWebhook[];
  try {
    stored = (await deps.webhooks.subscribed(event.accountId, event.type)).sort((a, b) => a.id.localeCompare(b.id));
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    // Redelivering would fail the same way: the event is kept where operators look, and acknowledged.
    const reason = `internal error while loading the webhooks of account ${event.accountId} for ${event.type}: ${errorMessage(error)} (errorCode internal_error; hookshape's log has the details)`;
    logger.log('ERROR', `event not dispatched, recorded in invalidEvents/${message.messageId}: ${reason}`, { errorCode: 'internal_error', messageId: message.messageId, stack: (error as Error)?.stack ?? null });
    await deps.invalidEvents.record(message.messageId, reason, rawMessage(message));
    return [];
  }
  const enabled = stored.filter((webhook) => (webhook.data as { enabled?: unknown } | undefined)?.enabled !== false);
  logger.log('INFO', `event received: ${enabled.length} enabled webhook(s) subscribed`, { webhooks: enabled.length, disabled: stored.length - enabled.length });
  // No loops: an operational event about a webhook never goes to that webhook (events/operational-events.ts).
  const receivers = enabled.filter((webhook) => {
    if (!isAboutWebhook(event, webhook.id)) return true;
    logger.log('INFO', `webhook ${webhook.id} skipped: ${event.type} is about this webhook (no loops)`, { webhookId: webhook.id, skipped: 'self' });
    return false;
  });
  // A webhook whose stored validation failed for its current configuration would only produce invalid
  // deliveries: skipped, without a delivery record (its document shows why).
  const skipped: DeliveryOutcome[] = [];
  const deliverable = receivers.filter((webhook) => {
    const failed = failedValidation(webhook.data);
    if (!failed) return true;
    const note = `its last validation failed: ${summariseIssues(failed.errors)}`;
    logger.log('WARNING', `webhook ${webhook.id} skipped: ${note}`, { webhookId: webhook.id, skipped: 'validation', invalid: 'webhook' });
    skipped.push({ webhookId: webhook.id, status: 'skipped', note });
    return false;
  });
  // The webhook's filter decides before anything is written: a filtered-out event costs no Firestore
  // write, no secret read and no place in the fan-out limit. One log line each, countable as a metric
  // (jsonPayload.filtered = true); `at` names the failing path, never the event's values.
  const wanted = deliverable
    .map((webhook) => ({ webhook, parsed: parseStoredWebhook(event.accountId, webhook) }))
    .filter(({ webhook, parsed }) => {
      if (!parsed.ok) return true; // recorded as invalid by its delivery
      let verdict: FilterVerdict;
      try {
        verdict = filterEvent(parsed.webhook, event);
      } catch (error) {
        // It never throws for any data; should a bug make it, the event is delivered, not lost.
        logger.log('ERROR', `webhook ${webhook.id}: the filter could not be evaluated, the event is delivered: ${errorMessage(error)}`, { webhookId: webhook.id, stack: (error as Error)?.stack ?? null });
        return true;
      }
      if (verdict.pass) return true;
      logger.log('INFO', `webhook ${webhook.id}: event filtered out (${verdict.at})`, { webhookId: webhook.id, filtered: true, filterAt: verdict.at });
      skipped.push({ webhookId: webhook.id, status: 'filtered', note: verdict.reason });
      return false;
    });
  if (wanted.length === 0) return skipped;

  let secrets: LoadedSecrets;
  try {
    secrets = { ok: true, secrets: await deps.secrets.secretsFor(event.accountId) };
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    secrets = { ok: false, error }; // each delivery records it (they may not all need a secret, but they read them)
  }
  const failures: unknown[] = [];
  const outcomes = await mapConcurrent(wanted, deps.concurrency, async ({ webhook, parsed }, index) => {
    const deliveryTrace = childSpan(trace);
    const deliveryLogger = logger.child({ webhookId: webhook.id, deliveryId: `${webhook.id}/${event.id}`, ...traceFields(deliveryTrace) });
    try {
      return await startDelivery(deps, { event, stored: webhook, parsed, secrets, withinLimit: index < deps.maxWebhooksPerEvent, fanOutLimit: deps.maxWebhooksPerEvent, trace: deliveryTrace }, deliveryLogger);
    } catch (error) {
      // Only passing faults reach here (startDelivery records the others): the siblings go on.
      failures.push(error);
      deliveryLogger.log('ERROR', `delivery interrupted by a passing fault, the event will be redelivered: ${errorMessage(error)}`, { stack: (error as Error)?.stack ?? null });
      return { webhookId: webhook.id, status: 'skipped' as const, note: 'interrupted' };
    }
  });
  if (failures.length > 0) {
    throw new RedeliverError(`event ${event.id}: ${failures.length} delivery(ies) interrupted: ${failures.map(errorMessage).join('; ')}`, { cause: failures[0] });
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
  let parsed: ParsedWebhook;
  try {
    parsed = parseWebhookConfig(accountId, stored.id, stored.data);
  } catch (error) {
    // A document the schema code trips over: recorded on its delivery like any unusable webhook.
    return { ok: false, reason: `webhook ${stored.id}: could not be read (internal error: ${errorMessage(error)})`, issues: [] };
  }
  parsedWebhooks.set(stored, { accountId, parsed });
  return parsed;
}
