/**
 * hookshape's operational events: a delivery failed for good, a webhook was disabled automatically, a
 * webhook document became invalid, an event was dead-lettered. Each is an ordinary event message (the
 * platform's envelope, a catalogue type), published to the operations topic; the dispatcher delivers
 * it to the account's webhooks subscribed to it, templated like any other event.
 *
 * Pure: the builders, the no-loop rule and a publish that never throws. The Pub/Sub adapter is
 * pubsub/pubsub-operations-publisher.ts.
 */
import { createHash } from 'node:crypto';
import { isOperationalEventType, type OperationalEventType } from './event-catalogue.ts';
import type { EventMessage } from './event-message.ts';
import { errorMessage } from '../core/failures.ts';
import type { Logger } from '../log/logger.ts';

/** Publishes one operational event (the operations topic). */
export interface OperationsPublisher {
  publish(event: EventMessage): Promise<void>;
}

/** Longest `reason` (and error message) an operational event carries: it is a notification, not a log. */
export const MAX_REASON_CHARS = 500;
export const MAX_ISSUE_CHARS = 300;
export const MAX_ISSUES = 10;
/** A publish that takes longer is given up (logged): the function that called it has work to finish. */
export const PUBLISH_TIMEOUT_MS = 10_000;
/** The errorCode of the log line of a publish that failed (a metric can count it). */
export const OPERATIONS_PUBLISH_FAILED = 'operations_publish_failed';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Cuts text to `max` characters, saying so. */
export function bounded(text: string, max = MAX_REASON_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * A deterministic event id from what the event is about (`df:<webhook>:<event>` for a delivery), so a
 * second publish of the same fact is the same event and the dispatcher's delivery record (keyed by
 * event id) dedupes it. Ids too long for a document id, or with `:` inside (ambiguous), are hashed.
 */
export function operationalEventId(kind: 'df' | 'wd' | 'wi' | 'dl', parts: readonly string[]): string {
  const readable = `${kind}:${parts.join(':')}`;
  if (ID.test(readable) && parts.every((part) => part.length > 0 && !part.includes(':'))) return readable;
  return `${kind}:${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40)}`;
}

/** Where the portal (served at /portal by the api function) shows a delivery, a webhook or an event. */
export const portalPath = {
  delivery: (webhookId: string, eventId: string) => `/portal#/deliveries/${encodeURIComponent(webhookId)}/${encodeURIComponent(eventId)}`,
  webhook: (webhookId: string) => `/portal#/webhooks/${encodeURIComponent(webhookId)}`,
  event: (eventId: string) => `/portal#/events/${encodeURIComponent(eventId)}`,
  /** The delivery log, for an event whose id is not known. */
  deliveries: '/portal#/deliveries',
};

/**
 * The no-loop rule: a delivery of one of hookshape's own events that fails, or an operational event
 * that is dead-lettered, announces nothing. Otherwise a notification webhook that fails would notify
 * itself of its own failure, forever.
 */
export function announcesFailureOf(eventType: string): boolean {
  return !isOperationalEventType(eventType);
}

/**
 * The other half of the no-loop rule: an operational event about webhook W (W disabled, W invalid, a
 * delivery of W failed) is never delivered to W itself, even by a dispatcher whose cached view still
 * shows W enabled.
 */
export function isAboutWebhook(event: Pick<EventMessage, 'type' | 'data'>, webhookId: string): boolean {
  if (!isOperationalEventType(event.type)) return false;
  return (event.data as { webhook?: { id?: unknown } }).webhook?.id === webhookId;
}

const message = (type: OperationalEventType, id: string, accountId: string, at: Date, data: Record<string, unknown>): EventMessage => ({ id, type, accountId, occurredAt: at.toISOString(), data });

export interface FailedDelivery {
  accountId: string;
  webhookId: string;
  webhookName: string | null;
  event: Pick<EventMessage, 'id' | 'type' | 'occurredAt'>;
  errorCode: string | null;
  lastError: string | null;
  attempts: number;
  createdAt: Date | null;
  endedAt: Date;
}

export function deliveryFailedEvent(failed: FailedDelivery): EventMessage {
  return message('hookshape.delivery.failed', operationalEventId('df', [failed.webhookId, failed.event.id]), failed.accountId, failed.endedAt, {
    delivery: {
      id: `${failed.webhookId}/${failed.event.id}`,
      status: 'failed',
      errorCode: failed.errorCode,
      attempts: failed.attempts,
      createdAt: failed.createdAt?.toISOString() ?? null,
      endedAt: failed.endedAt.toISOString(),
    },
    webhook: { id: failed.webhookId, name: failed.webhookName ?? failed.webhookId },
    event: { id: failed.event.id, type: failed.event.type, occurredAt: failed.event.occurredAt },
    reason: bounded(failed.lastError ?? 'failed'),
    portalPath: portalPath.delivery(failed.webhookId, failed.event.id),
  });
}

export interface DisabledWebhook {
  accountId: string;
  webhookId: string;
  webhookName: string | null;
  at: Date;
  consecutiveFailures: number;
  reason: string;
  /** The delivery whose failure disabled it. */
  eventId: string;
  attempts: number;
}

export function webhookDisabledEvent(disabled: DisabledWebhook): EventMessage {
  // One event per disabling: its time is part of the id (a webhook re-enabled and disabled again is news).
  return message('hookshape.webhook.disabled', operationalEventId('wd', [disabled.webhookId, String(disabled.at.getTime())]), disabled.accountId, disabled.at, {
    webhook: { id: disabled.webhookId, name: disabled.webhookName ?? disabled.webhookId },
    disabled: { at: disabled.at.toISOString(), consecutiveFailures: disabled.consecutiveFailures },
    delivery: { id: `${disabled.webhookId}/${disabled.eventId}`, attempts: disabled.attempts },
    reason: bounded(disabled.reason),
    portalPath: portalPath.webhook(disabled.webhookId),
  });
}

export interface InvalidWebhook {
  accountId: string;
  webhookId: string;
  webhookName: string | null;
  checkedAt: Date;
  /** The validated configuration: the same invalid configuration is announced once. */
  configHash: string;
  errors: ReadonlyArray<{ field: string; message: string }>;
}

export function webhookInvalidEvent(invalid: InvalidWebhook): EventMessage {
  const errors = invalid.errors.slice(0, MAX_ISSUES).map((issue) => ({ field: issue.field, message: bounded(issue.message, MAX_ISSUE_CHARS) }));
  return message('hookshape.webhook.invalid', operationalEventId('wi', [invalid.webhookId, invalid.configHash]), invalid.accountId, invalid.checkedAt, {
    webhook: { id: invalid.webhookId, name: invalid.webhookName ?? invalid.webhookId },
    validation: { checkedAt: invalid.checkedAt.toISOString(), errorCount: invalid.errors.length, errors },
    reason: bounded(invalid.errors.map((issue) => `${issue.field || 'document'}: ${issue.message}`).join('; ') || 'invalid'),
    portalPath: portalPath.webhook(invalid.webhookId),
  });
}

export interface DeadLetteredEvent {
  /** The dead event; for an unreadable message, what could be read of it ('' where nothing). */
  event: { id: string; type: string; accountId: string; occurredAt: string };
  messageId: string;
  deliveryAttempts: number;
  at: Date;
  /** Why the message could not be read as an event; absent or null when it was read. */
  unreadable?: string | null;
  /** The start of an unreadable message's data, credentials redacted (events/dead-letters.ts). */
  excerpt?: string;
}

export function eventDeadLetteredEvent(dead: DeadLetteredEvent): EventMessage {
  const attempts = `${dead.deliveryAttempts || 'every'} deliver${dead.deliveryAttempts === 1 ? 'y' : 'ies'}`;
  const reason = dead.unreadable
    ? `the message could not be read as an event (${dead.unreadable}) and was not handled in ${attempts}; it is kept on the dead-letter topic`
    : `the dispatcher could not dispatch the event in ${attempts}; it is kept on the dead-letter topic`;
  // A message without a usable event id is known by its dead-letter message id.
  return message('hookshape.event.dead_lettered', operationalEventId('dl', dead.event.id ? [dead.event.id] : ['msg', dead.messageId]), dead.event.accountId, dead.at, {
    event: { id: dead.event.id, type: dead.event.type, occurredAt: dead.event.occurredAt },
    deadLetter: { messageId: dead.messageId, deliveryAttempts: dead.deliveryAttempts, readable: !dead.unreadable, excerpt: dead.excerpt ?? '' },
    reason: bounded(reason),
    portalPath: dead.event.id ? portalPath.event(dead.event.id) : portalPath.deliveries,
  });
}

/**
 * Publishes after the state it reports is written, and never throws: a notification must not undo or
 * redo the work it is about. A failure (or no answer within PUBLISH_TIMEOUT_MS) is logged with
 * OPERATIONS_PUBLISH_FAILED and given up; the record it is about says the same thing.
 */
export async function announce(publisher: OperationsPublisher | undefined, event: EventMessage, logger: Logger, timeoutMs = PUBLISH_TIMEOUT_MS): Promise<boolean> {
  if (!publisher) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      publisher.publish(event),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    logger.log('INFO', `operational event ${event.type} published`, { operationalEventId: event.id, operationalEventType: event.type });
    return true;
  } catch (error) {
    logger.log('ERROR', `could not publish operational event ${event.type} ${event.id}: ${errorMessage(error)}`, { errorCode: OPERATIONS_PUBLISH_FAILED, operationalEventId: event.id, operationalEventType: event.type });
    return false;
  } finally {
    clearTimeout(timer);
  }
}
