import { DESTINATION_REFUSED, type SendResult } from './http-sender.ts';

export type Outcome =
  | { result: 'succeeded'; summary: string }
  | { result: 'failed'; summary: string }
  | { result: 'retryable'; summary: string; retryAfterSeconds?: number };

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
 */
export function classifyOutcome(sent: SendResult, now: Date): Outcome {
  if (sent.kind === 'error') {
    if (sent.code === DESTINATION_REFUSED) return { result: 'failed', summary: sent.message };
    return { result: 'retryable', summary: `${sent.code}: ${sent.message}` };
  }
  const { status } = sent;
  if (status >= 200 && status < 300) return { result: 'succeeded', summary: `HTTP ${status}` };
  if (status === 429 || status >= 500) {
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
