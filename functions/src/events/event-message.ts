import { z } from 'zod';
import { EVENT_TYPES, type EventType } from './event-catalogue.ts';
import { describeIssues } from '../webhooks/describe-issues.ts';

/**
 * The event message the platform publishes (Pub/Sub message data, UTF-8 JSON). The ids end up in
 * Firestore document paths, so they are restricted to characters that are safe there.
 */
export interface EventMessage {
  id: string;
  type: EventType;
  accountId: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** Largest accepted message data; the event is stored with each delivery (Firestore caps documents at 1 MiB). */
export const MAX_EVENT_BYTES = 256 * 1024;

const documentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/, 'must be 1-200 letters, digits, or _ . : - (it names a Firestore document)');

const eventSchema = z.object({
  id: documentId,
  type: z.enum(EVENT_TYPES, { error: (issue) => `'${String(issue.input)}' is not an event type of the catalogue` }),
  accountId: documentId,
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-11-23T10:15:00Z' }),
  data: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }),
});

export type ParsedEvent = { ok: true; event: EventMessage } | { ok: false; reason: string };

/**
 * The bytes of a push message's base64 `data`, in memory of their own. Buffer.from puts small results
 * in a shared 8 KiB pool, and a message held while its deliveries are in flight (a dispatch holds it to
 * the end) would keep a whole pool slab alive: about 4 MB more with 1,000 events in flight.
 */
export function messageBytes(base64: string): Buffer {
  const decoded = Buffer.from(base64, 'base64');
  return decoded.byteLength === decoded.buffer.byteLength ? decoded : Buffer.from(decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + decoded.byteLength));
}

/** Decodes and validates one message; never throws for bad input. */
export function parseEventMessage(
  data: Buffer | undefined,
  attributes: Record<string, string> | undefined = {},
): ParsedEvent {
  if (!data || data.length === 0) return { ok: false, reason: 'the message has no data' };
  if (data.length > MAX_EVENT_BYTES) {
    return { ok: false, reason: `the message data is ${data.length} bytes; the limit is ${MAX_EVENT_BYTES}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (error) {
    return { ok: false, reason: `the message data is not UTF-8 JSON: ${(error as Error).message}` };
  }
  const result = eventSchema.safeParse(json);
  if (!result.success) return { ok: false, reason: `the event does not match the schema: ${describeIssues(result.error.issues)}` };
  const event = result.data as EventMessage;
  for (const name of ['type', 'accountId'] as const) {
    const attribute = attributes?.[name];
    if (attribute !== undefined && attribute !== event[name]) {
      return { ok: false, reason: `attribute ${name} '${attribute}' does not match the event's ${name} '${event[name]}'` };
    }
  }
  return { ok: true, event };
}
