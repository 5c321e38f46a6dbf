/**
 * One place decides what an unexpected error means. Expected outcomes (a 404, a timeout, a bad
 * template) are values, never exceptions; what is thrown is either a passing fault of the
 * infrastructure (Firestore, Cloud Tasks, Secret Manager, the network to them) — then the work is
 * redelivered and will succeed later — or anything else (a bug, a refused request, a misconfiguration)
 * — then redelivering would only fail the same way, so the one delivery it hit is made final.
 */

/** gRPC status codes, by name (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const TRANSIENT_GRPC = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.INTERNAL,
]);

/** Socket and DNS errors on the way to a Google API (never a receiver's: those are send outcomes). ENOTFOUND
 * counts: a DNS blip for googleapis.com passes, and redelivering loses nothing. */
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_HTTP2_STREAM_ERROR', 'ERR_STREAM_PREMATURE_CLOSE']);

/** REST fallbacks (gaxios) report an HTTP status instead of a gRPC code. */
const TRANSIENT_HTTP = new Set([408, 429, 500, 502, 503, 504]);

/** Thrown by our own code for a fault that a later try can get past (e.g. a dependency said "later"). */
export class TransientError extends Error {
  override name = 'TransientError';
}

export type FailureClass = 'transient' | 'internal';

/**
 * `transient`: redeliver the event (or answer Cloud Tasks with a 5xx); `internal`: make the delivery
 * final with errorCode `internal_error`. Follows `cause` chains, since adapters wrap client errors.
 */
export function classifyFailure(error: unknown): FailureClass {
  const seen = new Set<unknown>();
  for (let current: unknown = error; current && typeof current === 'object' && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    if (current instanceof TransientError) return 'transient';
    const { code, status, response } = current as { code?: unknown; status?: unknown; response?: { status?: unknown } };
    if (typeof code === 'number' && TRANSIENT_GRPC.has(code)) return 'transient';
    if (typeof code === 'string' && TRANSIENT_NETWORK.has(code)) return 'transient';
    const httpStatus = typeof response?.status === 'number' ? response.status : typeof status === 'number' ? status : undefined;
    if (httpStatus !== undefined && TRANSIENT_HTTP.has(httpStatus)) return 'transient';
  }
  return 'internal';
}

/**
 * Stable codes on a delivery record that did not succeed, for filters, alerts and people. The
 * sentence in `lastError` explains; the code is what tools match on.
 */
export const ErrorCode = [
  /** The receiver answered with a status that is not retried (4xx but 408/429, 3xx). */
  'http_error',
  /** Every attempt the retry policy allows failed with a retryable answer or network error. */
  'retries_exhausted',
  /** The destination is not a public address (SSRF guard). */
  'destination_blocked',
  /** The OAuth2 token endpoint refused the webhook's client credentials (or answered no usable token). */
  'auth_failed',
  /** The webhook document or its templates do not make a valid request. */
  'invalid_webhook',
  /** Not sent: the event fans out to more webhooks than one event may. */
  'fan_out_limit',
  /** The webhook was deleted or disabled while a retry waited. */
  'webhook_removed',
  /** A fault in hookshape itself (a bug, a refused write); the log has the details. */
  'internal_error',
  /** Taken over too many times without progress (its instances kept dying). */
  'stalled',
] as const;
export type ErrorCode = (typeof ErrorCode)[number];

/** A message for a person, without a stack: stacks go to the log only. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
