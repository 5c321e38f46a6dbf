/**
 * Dead letters: when the dispatcher has failed an event message dead_letter_max_delivery_attempts times,
 * Pub/Sub forwards it to the events' dead-letter topic with attributes of its own (DEAD_LETTER_ATTRIBUTES)
 * besides the original ones. The deadLetterNotify function reads each one and announces it
 * (hookshape.event.dead_lettered) to the account it belongs to.
 *
 * Pure: what a dead letter says (readable or not — an unreadable message is often why it died), and what
 * to announce about it, or why nothing: a dead-lettered `hookshape.*` event announces nothing (the
 * no-loop rule of operational-events.ts), nor does a message that names no account, or two.
 */
import type { Clock } from '../core/ports.ts';
import type { Logger } from '../log/logger.ts';
import { childSpan, traceFields, traceFromAttributes } from '../log/trace.ts';
import { isOperationalEventType } from './event-catalogue.ts';
import { MAX_EVENT_BYTES, parseEventMessage, type EventMessage } from './event-message.ts';
import { announce, bounded, eventDeadLetteredEvent, type OperationsPublisher } from './operational-events.ts';

/** What Pub/Sub adds to a message it dead-letters. */
const DEAD_LETTER_ATTRIBUTES = {
  subscription: 'CloudPubSubDeadLetterSourceSubscription',
  subscriptionProject: 'CloudPubSubDeadLetterSourceSubscriptionProject',
  deliveryCount: 'CloudPubSubDeadLetterSourceDeliveryCount',
  publishTime: 'CloudPubSubDeadLetterSourceTopicPublishTime',
} as const;

/** Longest excerpt of an unreadable message's data that is announced and logged. */
export const MAX_EXCERPT_CHARS = 200;
/** The part of the data an excerpt is taken from (redacted as a whole, then cut). */
const EXCERPT_SOURCE_BYTES = 4096;

const DOCUMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
const MAX_TYPE_CHARS = 100;

export interface DeadLetterMessage {
  /** The message id on the dead-letter topic. */
  messageId: string;
  data: Buffer | undefined;
  attributes: Record<string, string>;
}

/** Where the message died, as Pub/Sub says it (each null when it did not say). */
export interface DeadLetterSource {
  /** projects/P/subscriptions/S of the subscription that gave up. */
  subscription: string | null;
  /** Deliveries to the subscriber before Pub/Sub gave up; 0 when not said. */
  deliveryAttempts: number;
  /** When the original message was published to its topic (ISO). */
  publishedAt: string | null;
}

/** What is known of the dead-lettered event: everything when readable, what could be salvaged otherwise. */
export interface DeadLetterFacts {
  messageId: string;
  source: DeadLetterSource;
  readable: boolean;
  /** Why it could not be read (no message content); null when readable. */
  unreadable: string | null;
  eventId: string | null;
  eventType: string | null;
  accountId: string | null;
  /** The start of an unreadable message's data, credentials redacted; '' when readable. */
  excerpt: string;
}

export type DeadLetterNotice =
  | { announce: true; event: EventMessage; facts: DeadLetterFacts }
  | { announce: false; why: 'operational_event' | 'no_account'; facts: DeadLetterFacts };

export function deadLetterSource(attributes: Record<string, string>): DeadLetterSource {
  const name = attributes[DEAD_LETTER_ATTRIBUTES.subscription]?.trim() || null;
  const project = attributes[DEAD_LETTER_ATTRIBUTES.subscriptionProject]?.trim() || null;
  const count = Number(attributes[DEAD_LETTER_ATTRIBUTES.deliveryCount]);
  const published = attributes[DEAD_LETTER_ATTRIBUTES.publishTime]?.trim();
  const publishedAt = published && !Number.isNaN(Date.parse(published)) ? new Date(published).toISOString() : null;
  return {
    subscription: name === null ? null : name.startsWith('projects/') || !project ? name : `projects/${project}/subscriptions/${name}`,
    deliveryAttempts: Number.isSafeInteger(count) && count > 0 ? count : 0,
    publishedAt,
  };
}

/** Keys whose values are credentials; their values never reach an excerpt. */
const CREDENTIAL_KEY = String.raw`[\w.-]*(?:secret|passw(?:or)?d|pwd|token|authori[sz]ation|api[-_]?key|apikey|signature|credential|cookie|private[-_]?key|session)[\w.-]*`;
const REDACTIONS: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  // "apiKey": "value" (also unterminated, and non-string values)
  [new RegExp(String.raw`("${CREDENTIAL_KEY}"\s*:\s*)(?:"(?:[^"\\]|\\.)*(?:"|$)|[^,}\]\s]+)`, 'gi'), '$1"[redacted]"'],
  // token=value, Authorization: Bearer value
  [new RegExp(String.raw`\b(${CREDENTIAL_KEY})(\s*[=:]\s*)(?:(?:Bearer|Basic)\s+)?[^\s&,;"]+`, 'gi'), '$1$2[redacted]'],
  [/\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, '[redacted]'],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, '[redacted]'],
];

/** The first MAX_EXCERPT_CHARS characters of data, as text on one line, credential values redacted. */
export function safeExcerpt(data: Buffer | undefined, max = MAX_EXCERPT_CHARS): string {
  if (!data || data.length === 0) return '';
  let text = data.subarray(0, EXCERPT_SOURCE_BYTES).toString('utf8');
  for (const [pattern, replacement] of REDACTIONS) text = text.replace(pattern, replacement);
  // eslint-disable-next-line no-control-regex
  return bounded(text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]+/g, ' '), max);
}

/** Why the data is not an event, without quoting it (JSON.parse's message quotes the input). */
function unreadableReason(reason: string): string {
  return reason.startsWith('the message data is not UTF-8 JSON') ? 'the message data is not UTF-8 JSON' : bounded(reason, 300);
}

/** The fields an unreadable message still yields, each only when it has the right shape. */
function salvage(data: Buffer | undefined): { id?: string; type?: string; accountId?: string; occurredAt?: string } {
  if (!data || data.length === 0 || data.length > 4 * MAX_EVENT_BYTES) return {};
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return {};
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return {};
  const { id, type, accountId, occurredAt } = json as Record<string, unknown>;
  return {
    ...(typeof id === 'string' && DOCUMENT_ID.test(id) ? { id } : {}),
    ...(typeof type === 'string' && type.trim() ? { type: bounded(type, MAX_TYPE_CHARS) } : {}),
    ...(typeof accountId === 'string' && DOCUMENT_ID.test(accountId) ? { accountId } : {}),
    ...(typeof occurredAt === 'string' && !Number.isNaN(Date.parse(occurredAt)) ? { occurredAt: new Date(occurredAt).toISOString() } : {}),
  };
}

/**
 * What to announce about one dead letter. The announcement's id comes from the dead event's id
 * (`dl:<event>`), so the same event dead-lettered twice — Pub/Sub dead-letters on a best-effort basis and
 * may forward a message more than once, and a push may be redelivered — is one announcement, which the
 * notification webhook's delivery record dedupes. A message without a usable event id gets one from its
 * dead-letter message id (`dl:msg:<id>`).
 */
export function deadLetterNotice(message: DeadLetterMessage, at: Date): DeadLetterNotice {
  const source = deadLetterSource(message.attributes);
  const parsed = parseEventMessage(message.data, message.attributes);
  const attributeType = message.attributes['type'];
  const attributeAccount = message.attributes['accountId'];
  let facts: DeadLetterFacts;
  let occurredAt: string;
  if (parsed.ok) {
    const { event } = parsed;
    facts = { messageId: message.messageId, source, readable: true, unreadable: null, eventId: event.id, eventType: event.type, accountId: event.accountId, excerpt: '' };
    occurredAt = event.occurredAt;
  } else {
    const found = salvage(message.data);
    // Data and attributes that name different accounts name none: the notice could reach the wrong one.
    const accounts = new Set([found.accountId, attributeAccount].filter((value): value is string => typeof value === 'string' && DOCUMENT_ID.test(value)));
    facts = {
      messageId: message.messageId,
      source,
      readable: false,
      unreadable: unreadableReason(parsed.reason),
      eventId: found.id ?? null,
      eventType: found.type ?? (attributeType?.trim() ? bounded(attributeType, MAX_TYPE_CHARS) : null),
      accountId: accounts.size === 1 ? [...accounts][0]! : null,
      excerpt: safeExcerpt(message.data),
    };
    occurredAt = found.occurredAt ?? source.publishedAt ?? at.toISOString();
  }
  // No loops: a hookshape.* event that died (the operations topic's push dead-letters here too) is not announced.
  if ([facts.eventType, attributeType].some((type) => typeof type === 'string' && isOperationalEventType(type))) return { announce: false, why: 'operational_event', facts };
  if (!facts.accountId) return { announce: false, why: 'no_account', facts };
  const event = eventDeadLetteredEvent({
    event: { id: facts.eventId ?? '', type: (facts.eventType ?? '') as EventMessage['type'], accountId: facts.accountId, occurredAt },
    messageId: message.messageId,
    deliveryAttempts: source.deliveryAttempts,
    at,
    unreadable: facts.unreadable,
    excerpt: facts.excerpt,
  });
  return { announce: true, event, facts };
}

export interface DeadLetterDeps {
  operations: OperationsPublisher;
  logger: Logger;
  clock: Clock;
}

/**
 * One dead letter: logged (one ERROR line, `deadLettered: true`, in the trace the original message
 * carried), then announced to its account unless the no-loop rule or a missing account says otherwise.
 * Never throws and never asks for a redelivery: the original stays on the dead-letter topic's inspection
 * subscription whatever happens here, and a publish that fails is logged (operations_publish_failed).
 */
export async function handleDeadLetter(deps: DeadLetterDeps, message: DeadLetterMessage): Promise<DeadLetterNotice & { published: boolean }> {
  const incoming = traceFromAttributes(message.attributes);
  const logger = deps.logger.child({ component: 'dead-letters', ...traceFields(incoming.source === 'message' ? childSpan(incoming.context) : incoming.context) });
  const notice = deadLetterNotice(message, deps.clock.now());
  const { facts } = notice;
  const what = facts.eventId ? `event ${facts.eventId}` : `message ${facts.messageId}`;
  logger.log('ERROR', `${what} dead-lettered after ${facts.source.deliveryAttempts || 'an unknown number of'} deliveries${facts.source.subscription ? ` to ${facts.source.subscription}` : ''}${facts.readable ? '' : ` (unreadable: ${facts.unreadable})`}; the original is kept on the dead-letter topic`, {
    deadLettered: true,
    messageId: facts.messageId,
    eventId: facts.eventId,
    eventType: facts.eventType,
    accountId: facts.accountId,
    deliveryAttempts: facts.source.deliveryAttempts,
    deadLetterSubscription: facts.source.subscription,
    publishedAt: facts.source.publishedAt,
    readable: facts.readable,
    ...(facts.readable ? {} : { unreadable: facts.unreadable, excerpt: facts.excerpt }),
  });
  if (!notice.announce) {
    const why = notice.why === 'operational_event' ? `${facts.eventType ?? message.attributes['type']} is one of hookshape's own events: not announced (no loops)` : 'it names no account (or two different ones): not announced';
    logger.log(notice.why === 'operational_event' ? 'INFO' : 'WARNING', `dead letter ${facts.messageId}: ${why}`, { messageId: facts.messageId, operationalEventType: 'hookshape.event.dead_lettered', announced: false });
    return { ...notice, published: false };
  }
  const published = await announce(deps.operations, notice.event, logger.child({ messageId: facts.messageId, eventId: facts.eventId, accountId: facts.accountId }));
  return { ...notice, published };
}
