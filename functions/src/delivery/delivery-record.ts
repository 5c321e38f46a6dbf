import type { EventMessage } from '../events/event-message.ts';
import type { DeliveryTarget, OutgoingRequest } from '../render/build-request.ts';
import type { Outcome } from '../send/classify-outcome.ts';
import type { SendResult } from '../send/http-sender.ts';
import type { ErrorCode } from '../core/failures.ts';
import { Redactor } from '../log/redact.ts';

export const DeliveryStatus = ['pending', 'succeeded', 'retrying', 'failed', 'invalid'] as const;
export type DeliveryStatus = (typeof DeliveryStatus)[number];
/** The statuses a delivery ends in: nothing moves it on from them but a replay. */
export const ENDED_STATUSES = ['succeeded', 'failed', 'invalid'] as const satisfies readonly DeliveryStatus[];
export type EndedStatus = (typeof ENDED_STATUSES)[number];
/** Whether a status (read from a record, maybe written by hand) is one a delivery ends in. */
export const hasEnded = (status: unknown): status is EndedStatus => (ENDED_STATUSES as readonly unknown[]).includes(status);

/** Bodies kept in the delivery log; the rest is cut and the record says how many bytes there were. */
export const LOG_REQUEST_BODY_BYTES = 16 * 1024;
export const LOG_RESPONSE_BODY_BYTES = 8 * 1024;
/**
 * Headers kept per request and per response, and the URL: with the bodies they bound one attempt's
 * entry (about 64 KiB), so the attempt list's budget (attempt-list.ts) keeps a record under 1 MiB.
 */
export const LOG_HEADERS_BYTES = 16 * 1024;
export const LOG_URL_BYTES = 8 * 1024;
/** The header that says how many headers were left out. */
export const HEADERS_OMITTED = 'x-hookshape-headers-omitted';

export interface LoggedBody {
  body: string | null;
  bodyBytes: number;
  bodyTruncated: boolean;
}

export interface AttemptRecord {
  /** 1, 2, 3... across targets. */
  number: number;
  target: DeliveryTarget;
  /** 1..4 within the target's own series. */
  attemptOfTarget: number;
  startedAt: Date;
  durationMs: number;
  /** Null when the attempt's request was not recorded (its outcome is unknown). */
  request: ({ method: string; url: string; headers: Record<string, string> } & LoggedBody) | null;
  response: ({ status: number; headers: Record<string, string> } & LoggedBody) | null;
  error: { code: string; message: string } | null;
  /**
   * `unknown`: the instance sending it stopped before recording the answer, so the receiver may or may
   * not have it; it counts as a retryable failure, and the next attempt may be a duplicate.
   */
  outcome: Outcome['result'] | 'unknown';
  summary: string;
}

/** One document per (event, webhook) in the delivery log. Firestore stores the Dates as Timestamps. */
export interface DeliveryRecord {
  accountId: string;
  webhookId: string;
  webhookName: string | null;
  eventId: string;
  eventType: string;
  /** The event itself, so retries and replays render from the same input. */
  event: EventMessage;
  status: DeliveryStatus;
  /** The first attempt and the latest ones (MAX_KEPT_ATTEMPTS): Firestore refuses documents over 1 MiB. */
  attempts: AttemptRecord[];
  /** Attempts left out of `attempts` (after the first); absent when none were. */
  attemptsDropped?: number;
  /** The error of the last attempt or of rendering; null once delivered. */
  lastError: string | null;
  /** Why a delivery ended `failed` or `invalid` (core/failures.ts ErrorCode); null otherwise; absent on older records. */
  errorCode?: ErrorCode | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** When the TTL policy may delete the record. */
  expiresAt: Date;
  /**
   * The W3C trace id of the delivery (log/trace.ts): from the publisher's message, or new. Every log
   * line of the delivery carries it as logging.googleapis.com/trace; absent on older records.
   */
  traceId?: string;
}

/** Keeps headers in order while they fit; says how many did not (values of the kept ones are whole). */
function boundHeaders(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  let bytes = 0;
  let omitted = 0;
  let omittedBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    const size = Buffer.byteLength(name) + Buffer.byteLength(value);
    if (bytes + size > LOG_HEADERS_BYTES) {
      omitted += 1;
      omittedBytes += size;
      continue;
    }
    kept[name] = value;
    bytes += size;
  }
  if (omitted > 0) kept[HEADERS_OMITTED] = `${omitted} header(s), ${omittedBytes} bytes, not kept in the log`;
  return kept;
}

function boundText(text: string, limit: number): string {
  return Buffer.byteLength(text) > limit ? `${Buffer.from(text).subarray(0, limit).toString('utf8').replace(/\uFFFD$/, '')}…` : text;
}

/** An error text for the record or the log (`lastError`): secrets redacted, bounded like an attempt's error message. */
export function recordedErrorText(text: string, secretValues: readonly string[] = []): string {
  return boundText(new Redactor(secretValues).text(text), LOG_RESPONSE_BODY_BYTES);
}

function cut(text: string, limit: number, redactor: Redactor): LoggedBody {
  const bytes = Buffer.byteLength(text);
  // Redacted before the cut (a secret the limit would split no longer matches afterwards), but only as
  // much as can be kept: `limit` bytes are at most `limit` characters, plus a secret reaching past them.
  const head = text.length > limit + redactor.longest ? text.slice(0, limit + redactor.longest) : text;
  const redacted = redactor.text(head);
  const over = head !== text || Buffer.byteLength(redacted) > limit;
  const kept = over ? Buffer.from(redacted).subarray(0, limit).toString('utf8').replace(/\uFFFD$/, '') : redacted;
  return { body: kept, bodyBytes: bytes, bodyTruncated: over };
}

/** The log entry of one attempt, with secrets and credential headers redacted. */
export function attemptRecord(args: {
  number: number;
  target: DeliveryTarget;
  attemptOfTarget: number;
  startedAt: Date;
  request: OutgoingRequest;
  sent: SendResult;
  outcome: Outcome;
}): AttemptRecord {
  const { request, sent, outcome } = args;
  const redactor = new Redactor(request.secretValues);
  const requestBody = request.body === undefined ? { body: null, bodyBytes: 0, bodyTruncated: false } : cut(request.body, LOG_REQUEST_BODY_BYTES, redactor);
  let response: AttemptRecord['response'] = null;
  if (sent.kind === 'response') {
    const logged = cut(sent.body.toString('utf8'), LOG_RESPONSE_BODY_BYTES, redactor);
    response = {
      status: sent.status,
      headers: boundHeaders(redactor.headers(sent.headers)),
      ...logged,
      // More came than the sender read: the size is at least what was read.
      bodyTruncated: logged.bodyTruncated || sent.truncated,
    };
  }
  return {
    number: args.number,
    target: args.target,
    attemptOfTarget: args.attemptOfTarget,
    startedAt: args.startedAt,
    durationMs: sent.durationMs,
    request: { method: request.method, url: boundText(redactor.url(request.url), LOG_URL_BYTES), headers: boundHeaders(redactor.headers(request.headers, request.secretHeaders)), ...requestBody },
    response,
    error: sent.kind === 'error' ? { code: sent.code, message: boundText(redactor.text(sent.message), LOG_RESPONSE_BODY_BYTES) } : null,
    outcome: outcome.result,
    summary: boundText(redactor.text(outcome.summary), LOG_RESPONSE_BODY_BYTES),
  };
}
