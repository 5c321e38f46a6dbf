/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for one delivery: the trace id comes from
 * the publisher's message (its `traceparent` attribute, or `googclient_traceparent`, which the Pub/Sub
 * client's OpenTelemetry integration sets) or is new, and stays the same through the dispatch, every
 * attempt, every retry task and the repair sweep. Each of those steps is a span of its own (a new span
 * id, child of the one before), so Cloud Trace and Cloud Logging can group a delivery's log lines.
 * Pure: randomness comes from node:crypto only.
 */
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the span this context names (the parent of a child). */
  spanId: string;
  sampled: boolean;
}

/** Message attributes read for an incoming trace, in order. */
export const TRACEPARENT_ATTRIBUTES = ['traceparent', 'googclient_traceparent'] as const;

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** The header is short; anything longer is not a traceparent (and is never copied whole into a log). */
const MAX_TRACEPARENT_CHARS = 512;

/**
 * Parses a `traceparent` value by the spec's rules: version 00 has exactly four fields; a later version
 * (not ff) may add fields after the flags, which are ignored. Anything else is undefined.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_TRACEPARENT_CHARS) return undefined;
  const parts = value.trim().split('-');
  const [version, traceId, spanId, flags] = parts;
  if (!version || !/^[0-9a-f]{2}$/.test(version) || version === 'ff') return undefined;
  if (version === '00' ? parts.length !== 4 : parts.length < 4) return undefined;
  if (!traceId || !TRACE_ID.test(traceId) || traceId === ZERO_TRACE) return undefined;
  if (!spanId || !SPAN_ID.test(spanId) || spanId === ZERO_SPAN) return undefined;
  if (!flags || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

export const newSpanId = (): string => randomHex(8);

/** A new trace, sampled (hookshape makes no sampling decision of its own). */
export function newTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: newSpanId(), sampled: true };
}

/** The next span of the same trace: what a step sends on (a header, a task) or logs as its own. */
export function childSpan(parent: TraceContext): TraceContext {
  return { ...parent, spanId: newSpanId() };
}

/** Continues a stored trace id (a record, a task without a traceparent) with a new span. */
export function continueTrace(traceId: string | undefined | null): TraceContext | undefined {
  return typeof traceId === 'string' && TRACE_ID.test(traceId) && traceId !== ZERO_TRACE ? { traceId, spanId: newSpanId(), sampled: true } : undefined;
}

export type IncomingTrace =
  /** From the attribute named; `context` is its span (the caller starts a child of it). */
  | { source: 'message'; attribute: string; context: TraceContext }
  /** None was sent: a new trace. */
  | { source: 'new'; context: TraceContext }
  /** One was sent and is not a traceparent: a new trace; `value` is the start of what was sent, for the log. */
  | { source: 'invalid'; attribute: string; value: string; context: TraceContext };

/** The trace a message carries, or a new one; never throws. */
export function traceFromAttributes(attributes: Record<string, string> | undefined): IncomingTrace {
  let invalid: { attribute: string; value: string } | undefined;
  for (const attribute of TRACEPARENT_ATTRIBUTES) {
    const value = attributes?.[attribute];
    if (value === undefined) continue;
    const context = parseTraceparent(value);
    if (context) return { source: 'message', attribute, context };
    invalid ??= { attribute, value: String(value).slice(0, 100) };
  }
  return invalid ? { source: 'invalid', ...invalid, context: newTrace() } : { source: 'new', context: newTrace() };
}

/** The fields every log line of a traced step carries (the logger turns them into Cloud Logging's). */
export const traceFields = (context: TraceContext): { traceId: string; spanId: string; traceSampled: boolean } => ({
  traceId: context.traceId,
  spanId: context.spanId,
  traceSampled: context.sampled,
});
