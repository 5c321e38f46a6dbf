// DEV/TEST TOOLING ONLY — not deployed, not production code.
// Sends one attempt of an HTTP task the way Cloud Tasks would (its headers, a fake OIDC
// token, the dispatch deadline) and computes the retry backoff of a queue's RetryConfig.

import http from 'node:http';
import https from 'node:https';
import { GrpcStatus } from '../../src/core/failures.ts';
import {
  DEFAULT_RETRY_CONFIG,
  durationMs,
  shortId,
  type RetryConfig,
  type StoredTask,
  type Timestamp,
} from './emulator-state.ts';

export type DispatchOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'failure'; code: number; message: string } // no HTTP response: connection error or deadline
  | { kind: 'aborted' }; // the emulator was stopped mid-request

/** Headers that Cloud Tasks computes itself; a task's own values for them are dropped. */
const SYSTEM_HEADER = /^(host|content-length|user-agent|x-google-.*|x-appengine-.*|x-cloudtasks-.*)$/i;

export function buildDispatchHeaders(task: StoredTask, nowMs: number): Record<string, string> {
  const request = task.httpRequest;
  const tokenOverridesAuthorization = request.oidcToken !== undefined || request.oauthToken !== undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (SYSTEM_HEADER.test(name)) continue;
    if (tokenOverridesAuthorization && name.toLowerCase() === 'authorization') continue;
    headers[name] = value;
  }
  headers['User-Agent'] = 'Google-Cloud-Tasks';
  headers['X-CloudTasks-QueueName'] = shortId(task.queueName);
  headers['X-CloudTasks-TaskName'] = shortId(task.name);
  // Attempts so far (this one not yet counted): 0 on the first attempt.
  headers['X-CloudTasks-TaskRetryCount'] = String(task.dispatchCount);
  headers['X-CloudTasks-TaskExecutionCount'] = String(task.executionCount);
  headers['X-CloudTasks-TaskETA'] = etaHeader(task.scheduleTime);
  if (task.previousResponse !== undefined) {
    headers['X-CloudTasks-TaskPreviousResponse'] = String(task.previousResponse);
  }
  if (request.oidcToken) {
    const audience = request.oidcToken.audience || request.url || '';
    headers['Authorization'] = `Bearer ${fakeOidcToken(request.oidcToken.serviceAccountEmail ?? '', audience, nowMs)}`;
  } else if (request.oauthToken) {
    headers['Authorization'] = `Bearer emulator-oauth-token.${request.oauthToken.serviceAccountEmail ?? ''}`;
  }
  return headers;
}

/** Seconds since the epoch with a fraction, e.g. "1700000000.250000". */
function etaHeader(t: Timestamp): string {
  return `${t.seconds ?? 0}.${String(Math.floor((t.nanos ?? 0) / 1000)).padStart(6, '0')}`;
}

/**
 * An UNSIGNED, JWT-shaped token: the receiver can decode who would have called it, but
 * nothing can verify it — the "emulator" signature makes that obvious.
 */
export function fakeOidcToken(email: string, audience: string, nowMs: number): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'none', typ: 'JWT' };
  const payload = { iss: 'https://accounts.google.com', email, email_verified: true, aud: audience, iat, exp: iat + 3600 };
  return `${encode(header)}.${encode(payload)}.emulator`;
}

/** Sends the request; never rejects. The deadline covers the whole response, body included. */
export function sendHttpRequest(
  task: StoredTask,
  headers: Record<string, string>,
  stopSignal: AbortSignal,
): Promise<DispatchOutcome> {
  const url = new URL(task.httpRequest.url ?? '');
  const body = task.httpRequest.body ?? Buffer.alloc(0);
  const method = !task.httpRequest.httpMethod || task.httpRequest.httpMethod === 'HTTP_METHOD_UNSPECIFIED'
    ? 'POST'
    : task.httpRequest.httpMethod;
  const sendsBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  const outgoing = sendsBody ? { ...headers, 'Content-Length': String(body.length) } : headers;
  const controller = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, task.dispatchDeadlineMs);
  const onStop = () => controller.abort();
  stopSignal.addEventListener('abort', onStop, { once: true });

  return new Promise<DispatchOutcome>((resolve) => {
    const finish = (outcome: DispatchOutcome) => {
      clearTimeout(deadline);
      stopSignal.removeEventListener('abort', onStop);
      resolve(outcome);
    };
    // agent: false — one connection per attempt, so nothing lingers after stop().
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method,
      headers: outgoing,
      agent: false,
      signal: controller.signal,
    });
    request.on('response', (response) => {
      response.resume(); // the body is irrelevant; only the status decides
      response.on('end', () => finish({ kind: 'response', status: response.statusCode ?? 0 }));
      response.on('error', (error) => request.emit('error', error));
    });
    request.on('error', (error) => {
      if (stopSignal.aborted) finish({ kind: 'aborted' });
      else if (timedOut) finish({ kind: 'failure', code: GrpcStatus.DEADLINE_EXCEEDED, message: 'dispatch deadline exceeded' });
      else finish({ kind: 'failure', code: GrpcStatus.UNAVAILABLE, message: error.message });
    });
    request.end(sendsBody ? body : undefined);
  });
}

/** How Cloud Tasks reports an HTTP status in Attempt.responseStatus (google.rpc.Code). */
export function rpcCodeForHttpStatus(status: number): number {
  if (status >= 200 && status < 300) return GrpcStatus.OK;
  const exact: Record<number, number> = {
    400: GrpcStatus.INVALID_ARGUMENT,
    401: GrpcStatus.UNAUTHENTICATED,
    403: GrpcStatus.PERMISSION_DENIED,
    404: GrpcStatus.NOT_FOUND,
    409: GrpcStatus.ABORTED,
    429: GrpcStatus.RESOURCE_EXHAUSTED,
    499: GrpcStatus.CANCELLED,
    501: GrpcStatus.UNIMPLEMENTED,
    503: GrpcStatus.UNAVAILABLE,
    504: GrpcStatus.DEADLINE_EXCEEDED,
  };
  return exact[status] ?? (status >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.FAILED_PRECONDITION);
}

/**
 * Delay before retry number `retry` (1 = first retry), as documented on RetryConfig:
 * min_backoff doubles max_doublings times, then grows linearly, capped at max_backoff.
 * e.g. min 10 s, max 300 s, 3 doublings → 10, 20, 40, 80, 160, 240, 300, 300 …
 */
export function retryDelayMs(config: RetryConfig | undefined, retry: number): number {
  const min = durationMs(config?.minBackoff ?? DEFAULT_RETRY_CONFIG.minBackoff);
  const max = durationMs(config?.maxBackoff ?? DEFAULT_RETRY_CONFIG.maxBackoff);
  const doublings = config?.maxDoublings ?? DEFAULT_RETRY_CONFIG.maxDoublings;
  const step = retry - 1;
  const delay = step <= doublings ? min * 2 ** step : min * 2 ** doublings * (step - doublings + 1);
  return Math.min(delay, max);
}

/** Whether another attempt is allowed after `attempts` failed ones (max_attempts AND max_retry_duration). */
export function mayRetry(config: RetryConfig | undefined, attempts: number, msSinceFirstAttempt: number): boolean {
  const maxAttempts = config?.maxAttempts ?? DEFAULT_RETRY_CONFIG.maxAttempts;
  const maxRetryMs = durationMs(config?.maxRetryDuration);
  const attemptsExhausted = maxAttempts !== -1 && attempts >= maxAttempts;
  const ageExhausted = maxRetryMs <= 0 || msSinceFirstAttempt >= maxRetryMs;
  return !(attemptsExhausted && ageExhausted);
}
