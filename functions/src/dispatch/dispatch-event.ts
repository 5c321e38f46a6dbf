import { classifyFailure, errorMessage, TransientError } from '../core/failures.ts';
import type { SecretStore } from '../core/ports.ts';
import { resumeExisting, startDelivery, takeOverUnrecorded, type DeliveryOutcome as StartedOutcome, type LoadedSecrets } from '../delivery/deliver.ts';
import { eventClaimOf, pendingDelivery } from '../delivery/lease.ts';
import type { EventClaim, EventClaimStore, StoredDelivery } from '../delivery/ports.ts';
import type { DeliveryDeps } from '../delivery/run-attempts.ts';
import type { EventMessage } from '../events/event-message.ts';
import type { Logger } from '../log/logger.ts';
import type { TraceContext } from '../log/trace.ts';
import { parseEventMessage } from '../events/event-message.ts';
import { childSpan, continueTrace, traceFields, traceFromAttributes } from '../log/trace.ts';
import { isAboutWebhook } from '../events/operational-events.ts';
import { failedValidation } from '../validation/validate-stored-webhook.ts';
import { summariseIssues } from '../validation/validate-webhook.ts';
import { filterEvent, type FilterVerdict } from '../webhooks/event-filter.ts';
import { parseWebhookConfig, secretNamesOf, secretsChangedAt, type ParsedWebhook } from '../webhooks/webhook-config.ts';
import type { StoredWebhook, WebhookStore } from '../webhooks/webhook-store.ts';
import { mapConcurrent } from './map-concurrent.ts';
import type { InvalidEventLog } from './ports.ts';

/** What became of the event for one webhook: its delivery's outcome, or `filtered` (no delivery record). */
export type DeliveryOutcome = StartedOutcome | { webhookId: string; status: 'filtered'; note: string };

export interface DispatchDeps extends DeliveryDeps {
  webhooks: WebhookStore;
  /** One claim per event: the idempotency check of all its deliveries (delivery/ports.ts EventClaim). */
  eventClaims: EventClaimStore;
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
    const stack = (error as Error)?.stack ?? null;
    try {
      await deps.invalidEvents.record(message.messageId, reason, rawMessage(message));
    } catch (recordError) {
      // The handler logs the message whole (notDispatched) when this is lasting, or has it redelivered;
      // this line keeps why it was not dispatched. Counted once either way: not here.
      logger.log('ERROR', `event not dispatched: ${reason}; keeping it in invalidEvents/${message.messageId} failed too: ${errorMessage(recordError)}`, { errorCode: 'internal_error', messageId: message.messageId, stack });
      throw recordError;
    }
    // notDispatched: counted by hookshape/events_not_dispatched, once per event kept.
    logger.log('ERROR', `event not dispatched, recorded in invalidEvents/${message.messageId}: ${reason}`, { errorCode: 'internal_error', notDispatched: true, messageId: message.messageId, stack });
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
    const configs = wanted.flatMap(({ parsed }) => (parsed.ok ? [parsed.webhook] : []));
    secrets = { ok: true, secrets: await deps.secrets.secretsFor(event.accountId, configs.flatMap(secretNamesOf), secretsChangedAt(configs)) };
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    secrets = { ok: false, error }; // each delivery records it (they may not all need a secret, but they read them)
  }
  // One claim for the whole event, before any delivery is sent (N + 1 writes for N webhooks): a
  // redelivered event finds it. Each delivery's record is first written with its first result.
  const claim = eventClaimOf(event, wanted.map(({ webhook }) => webhook.id), deps.clock.now(), deps.retentionDays, trace.traceId);
  let unclaimed: { error: unknown } | undefined;
  try {
    const claimed = await deps.eventClaims.claim(claim);
    if (!claimed.created) return [...skipped, ...(await resumeEvent(deps, event, claimed.existing, wanted, secrets, trace, logger))];
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    // Redelivering would fail the same way: each delivery ends failed (internal_error), nothing is sent.
    unclaimed = { error };
  }
  const failures: unknown[] = [];
  const outcomes = await mapConcurrent(wanted, deps.concurrency, async ({ webhook, parsed }, index) => {
    const deliveryTrace = childSpan(trace);
    const deliveryLogger = logger.child({ webhookId: webhook.id, deliveryId: `${webhook.id}/${event.id}`, ...traceFields(deliveryTrace) });
    try {
      return await startDelivery(deps, { event, stored: webhook, parsed, secrets, withinLimit: index < deps.maxWebhooksPerEvent, fanOutLimit: deps.maxWebhooksPerEvent, trace: deliveryTrace, ...(unclaimed ? { unclaimed } : {}) }, deliveryLogger);
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

interface Wanted {
  webhook: StoredWebhook;
  parsed: ParsedWebhook;
}

/**
 * A redelivered event found its claim. Each delivery with a record is moved on as a redelivery moves
 * a record (resumeExisting). A delivery without one has its first attempt in flight under the claim:
 * while the claim's lease lives, its owner is still at work and the event is redelivered later (no
 * repair sweep can see a delivery without a record, so acknowledging could lose it); once the lease
 * has passed, the claim is taken over (one winner) and each such delivery is recorded as a takeover
 * records a lost attempt, its next attempt through Cloud Tasks.
 */
async function resumeEvent(deps: DispatchDeps, event: EventMessage, claim: EventClaim, wanted: readonly Wanted[], secrets: LoadedSecrets, trace: TraceContext, logger: Logger): Promise<DeliveryOutcome[]> {
  const current = new Map(wanted.map((item, index) => [item.webhook.id, { ...item, index }]));
  const failures: unknown[] = [];
  const keyOf = (webhookId: string) => ({ accountId: event.accountId, webhookId, eventId: event.id });
  // A redelivery without a traceparent started a new trace: the claim's is the event's (its owner's log lines).
  const eventTrace = (claim.traceId && claim.traceId !== trace.traceId ? continueTrace(claim.traceId) : undefined) ?? trace;
  const loggerOf = (webhookId: string) => {
    const span = childSpan(eventTrace);
    return { span, log: logger.child({ webhookId, deliveryId: `${webhookId}/${event.id}`, ...traceFields(span) }) };
  };
  // Faults are the delivery's own: a passing one makes the event redelivered, any other is logged and
  // left to the record's owner, a later redelivery or the repair sweep.
  const guarded = async (webhookId: string, log: Logger, step: () => Promise<DeliveryOutcome>): Promise<DeliveryOutcome> => {
    try {
      return await step();
    } catch (error) {
      if (classifyFailure(error) === 'transient') {
        failures.push(error);
        log.log('ERROR', `delivery interrupted by a passing fault, the event will be redelivered: ${errorMessage(error)}`, { stack: (error as Error)?.stack ?? null });
        return { webhookId, status: 'skipped', note: 'interrupted' };
      }
      log.log('ERROR', `could not look at the existing delivery: ${errorMessage(error)}`, { stack: (error as Error)?.stack ?? null });
      return { webhookId, status: 'skipped', note: 'internal error while looking at an existing delivery' };
    }
  };
  const missing: string[] = [];
  const found = await mapConcurrent(claim.webhookIds, deps.concurrency, async (webhookId) => {
    const { log } = loggerOf(webhookId);
    return guarded(webhookId, log, async () => {
      let record: StoredDelivery | undefined;
      try {
        record = await deps.deliveries.get(keyOf(webhookId));
      } catch (error) {
        if (classifyFailure(error) === 'transient') throw error;
        // Unreadable: it may have no record, which nothing but a redelivery of the event could recover.
        throw new TransientError(`could not read the delivery (it may have no record yet): ${errorMessage(error)}`, { cause: error });
      }
      if (!record) {
        missing.push(webhookId);
        return { webhookId, status: 'skipped', note: 'no record yet' };
      }
      const item = current.get(webhookId);
      return resumeExisting(deps, keyOf(webhookId), record, item?.parsed.ok ? item.parsed.webhook : undefined, log);
    });
  });
  const outcomes = found.filter((outcome) => !missing.includes(outcome.webhookId));
  if (missing.length > 0 && failures.length === 0) {
    const now = deps.clock.now();
    if (now.getTime() - claim.claimedAt.getTime() < deps.timing.leaseMs) {
      logger.log('INFO', `${missing.length} delivery(ies) of this event have no result yet, under the claim of ${claim.claimedAt.toISOString()} (within its lease): the event is redelivered later`, { unrecorded: missing.length, claimedAt: claim.claimedAt.toISOString() });
      throw new RedeliverError(`event ${event.id}: ${missing.length} delivery(ies) still being sent by the instance that claimed the event at ${claim.claimedAt.toISOString()}`);
    }
    const won = await deps.eventClaims.takeOver(event.accountId, event.id, claim.claimedAt, { claimedAt: now, takeovers: claim.takeovers + 1, updatedAt: now });
    if (!won) throw new RedeliverError(`event ${event.id}: its claim was taken over by another instance meanwhile`);
    logger.log('NOTICE', `event claim taken over (claimed ${claim.claimedAt.toISOString()}, past its lease): ${missing.length} delivery(ies) without a record are recovered`, { unrecorded: missing.length, takeovers: claim.takeovers + 1 });
    const lost = { claimedAt: claim.claimedAt, takeovers: claim.takeovers };
    outcomes.push(
      ...(await mapConcurrent(missing, deps.concurrency, async (webhookId) => {
        const { span, log } = loggerOf(webhookId);
        return guarded(webhookId, log, async () => {
          const item = current.get(webhookId);
          if (item) {
            // Its place in the fan-out limit is the one the lost owner applied (the claim's order), not
            // the current list's: a webhook added since must not make a sent delivery "not sent".
            return startDelivery(deps, { event, stored: item.webhook, parsed: item.parsed, secrets, withinLimit: claim.webhookIds.indexOf(webhookId) < deps.maxWebhooksPerEvent, fanOutLimit: deps.maxWebhooksPerEvent, trace: span, takeover: lost }, log);
          }
          // Gone since the claim (deleted, disabled, filtered out now): its lost attempt is recorded and
          // the retry worker's rules end it (a webhook removed before its next attempt).
          const seed: StoredDelivery = { ...pendingDelivery(event, webhookId, null, claim.claimedAt, deps.retentionDays, span.traceId), takeovers: claim.takeovers };
          return takeOverUnrecorded(deps, seed, undefined, log, (existing) => resumeExisting(deps, keyOf(webhookId), existing, undefined, log));
        });
      })),
    );
  }
  if (failures.length > 0) {
    throw new RedeliverError(`event ${event.id}: ${failures.length} delivery(ies) interrupted: ${failures.map(errorMessage).join('; ')}`, { cause: failures[0] });
  }
  return outcomes;
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
