import { DESTINATION_REFUSED, TOKEN_REJECTED, type SendResult } from './http-sender.ts';

export type Outcome =
  | { result: 'succeeded'; summary: string }
  | { result: 'failed'; summary: string }
  | { result: 'retryable'; summary: string; retryAfterSeconds?: number };

/** HTTP statuses from…to, both included. */
export type StatusRange = readonly [from: number, to: number];

/** Seed 001: 429 and every status from 500 up are retried (a nonstandard 6xx–9xx too, as always). */
export const DEFAULT_RETRY_ON: readonly StatusRange[] = [[429, 429], [500, 999]];

const retried = (status: number, retryOn: readonly StatusRange[]) => retryOn.some(([from, to]) => status >= from && status <= to);

/** Seconds asked for by a Retry-After header (delta-seconds or an HTTP date), if any. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/**
 * Seed 001: 2xx is delivered; 429 and ≥ 500 are retried; other 4xx are integration errors, captured and
 * not retried. The status is never read from the body. Redirects are not followed (the Location could
 * point anywhere, including inside our network), so a 3xx fails with the Location in the summary.
 * `retryOn` is a webhook's own list of retried statuses (`retry.retryOn`); transport errors (timeouts,
 * refused or reset connections, DNS, an OAuth2 token endpoint that is down) are always retried; a
 * refused destination and refused client credentials never.
 */
export function classifyOutcome(sent: SendResult, now: Date, retryOn: readonly StatusRange[] = DEFAULT_RETRY_ON): Outcome {
  if (sent.kind === 'error') {
    if (sent.code === DESTINATION_REFUSED || sent.code === TOKEN_REJECTED) return { result: 'failed', summary: sent.message };
    return { result: 'retryable', summary: `${sent.code}: ${sent.message}` };
  }
  const { status } = sent;
  if (status >= 200 && status < 300) return { result: 'succeeded', summary: `HTTP ${status}` };
  if (status >= 400 && retried(status, retryOn)) {
    const retryAfterSeconds = status === 429 || status === 503 ? parseRetryAfter(sent.headers['retry-after'], now) : undefined;
    return retryAfterSeconds === undefined
      ? { result: 'retryable', summary: `HTTP ${status}` }
      : { result: 'retryable', summary: `HTTP ${status}`, retryAfterSeconds };
  }
  if (status >= 300 && status < 400) {
    const location = sent.headers.location;
    return { result: 'failed', summary: `HTTP ${status}: redirects are not followed; point the webhook at the final URL${location ? ` (Location: ${String(location)})` : ''}` };
  }
  return { result: 'failed', summary: `HTTP ${status}` };
}
