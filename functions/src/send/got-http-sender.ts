import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import got, { type Got } from 'got';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import type { OutgoingRequest } from '../render/build-request.ts';
import { DESTINATION_REFUSED, MAX_RESPONSE_READ_BYTES, type HttpSender, type SendResult } from './http-sender.ts';
import { describeInternalHost, internalHost, internalUrlHost, type InternalHost, type InternalHostOptions } from './internal-hosts.ts';

export interface GotHttpSenderOptions {
  /** Lets requests reach 127.0.0.0/8, ::1 and localhost — local stack and tests only (ALLOW_LOOPBACK_DESTINATIONS). */
  allowLoopback: boolean;
  maxResponseBytes?: number;
  /** A custom DNS resolver; tests use it to make a public-looking name resolve to a private address. */
  lookup?: LookupFunction;
  maxSockets?: number;
  /** The longest an idle keep-alive connection is kept (a receiver's shorter Keep-Alive hint wins). */
  idleSocketMs?: number;
}

/**
 * Idle keep-alive connections are closed after this long, or 1 s before the receiver's announced
 * `Keep-Alive: timeout=N` if that is sooner (a longer announced timeout does not extend it). Without
 * it Node keeps them until the receiver closes them, and a delivery sent on a connection the receiver
 * is closing at that moment fails with ECONNRESET (a Node receiver closes after 5 s idle). 4 s is
 * undici's default for the same reason.
 */
export const IDLE_SOCKET_MS = 4000;

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/**
 * Sends with got through agents that refuse non-public addresses at connect time — after DNS, so a
 * name that resolves (or re-resolves) to a private, loopback, link-local (metadata server), CGNAT,
 * unique-local, multicast or unspecified address is refused before any byte is sent. Internal host
 * names (internal-hosts.ts: metadata.google.internal, *.internal, single labels...) are refused before
 * that, without a DNS query: checked on the URL before got runs, and again in the lookup got's agents
 * use for every connection (so no path, a redirect included, can look one up). Built once per
 * instance: the agents keep connections alive across invocations.
 */
export class GotHttpSender implements HttpSender {
  private readonly client: Got;
  private readonly maxResponseBytes: number;
  private readonly hosts: InternalHostOptions;
  private readonly origins: OriginQueues;

  constructor(options: GotHttpSenderOptions) {
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_READ_BYTES;
    this.hosts = { allowLoopback: options.allowLoopback };
    this.origins = new OriginQueues(options.maxSockets ?? 256);
    const filter = {
      allowPrivateIPAddress: false,
      allowMetaIPAddress: false,
      allowIPAddressList: options.allowLoopback ? LOOPBACK : [],
      keepAlive: true,
      maxSockets: options.maxSockets ?? 256,
      // Node applies the receiver's Keep-Alive hint only below an agent timeout. On a busy socket the
      // timeout only emits an event nobody listens to: got's own request timeout governs requests.
      timeout: options.idleSocketMs ?? IDLE_SOCKET_MS,
    };
    this.client = got.extend({
      agent: { http: new RequestFilteringHttpAgent(filter), https: new RequestFilteringHttpsAgent(filter) },
      retry: { limit: 0 }, // retries are scheduled by hookshape, minutes apart, as Cloud Tasks
      throwHttpErrors: false,
      followRedirect: false,
      dnsLookup: guardedLookup(options.lookup ?? (dnsLookup as LookupFunction), this.hosts),
    });
  }

  async send(request: OutgoingRequest): Promise<SendResult> {
    const internal = internalUrlHost(request.url, this.hosts);
    if (internal) return { kind: 'error', ...refusedName(internal), durationMs: 0 };
    const origin = originOf(request.url);
    const waitedMs = await this.origins.acquire(origin, request.timeoutMs);
    if (waitedMs === undefined) {
      const message = `Timeout awaiting 'request' for ${request.timeoutMs}ms (waited for a connection to the receiver, never sent)`;
      return { kind: 'error', code: 'ETIMEDOUT', message, durationMs: request.timeoutMs };
    }
    try {
      // The wait counts toward the timeout and the duration, as it did in the agent's queue.
      const remaining = waitedMs === 0 ? request : { ...request, timeoutMs: Math.max(1, request.timeoutMs - waitedMs) };
      return await sendThroughGot(this.client, remaining, this.maxResponseBytes, waitedMs);
    } finally {
      this.origins.release(origin);
    }
  }
}

/**
 * At most `limit` requests in got at once per origin (the agents' maxSockets); the others wait here
 * as the request they are, not as got's request objects queued in the agent, which hold about 20 KB
 * each (`npm run bench`, rssAt1000InFlight: 744 of 1,000 deliveries wait when all go to one slow
 * receiver). A released slot passes straight to the oldest waiter.
 */
export class OriginQueues {
  private readonly limit: number;
  private readonly queues = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Resolves with the milliseconds waited once a slot is the caller's, or undefined if `timeoutMs` passed first (no slot taken). */
  async acquire(origin: string, timeoutMs: number): Promise<number | undefined> {
    let queue = this.queues.get(origin);
    if (!queue) this.queues.set(origin, (queue = { active: 0, waiting: [] }));
    if (queue.active < this.limit) {
      queue.active++;
      return 0;
    }
    const since = performance.now();
    const waiting = queue.waiting;
    const turn = await new Promise<boolean>((resolve) => {
      const take = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(take), 1);
        resolve(false);
      }, timeoutMs);
      waiting.push(take);
    });
    return turn ? Math.max(1, Math.round(performance.now() - since)) : undefined;
  }

  /** Origins with a request in got or waiting: none once everything settled (no entry is left behind). */
  get size(): number {
    return this.queues.size;
  }

  release(origin: string): void {
    const queue = this.queues.get(origin)!;
    const next = queue.waiting.shift();
    if (next) next();
    else if (--queue.active === 0) this.queues.delete(origin);
  }
}

/** scheme://host:port of an absolute URL, as the agents pool connections (a bad URL is got's to refuse). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** The error a lookup of an internal host name fails with (no query is made). */
export class InternalHostError extends Error {
  readonly code = DESTINATION_REFUSED;
  readonly found: InternalHost;
  constructor(found: InternalHost) {
    super(refusedName(found).message);
    this.found = found;
  }
}

const refusedName = (found: InternalHost) => ({
  code: DESTINATION_REFUSED,
  message: `destination refused: ${describeInternalHost(found)}; internal host names are never looked up or called`,
});

/** `lookup`, except that an internal host name fails at once with InternalHostError and is never queried. */
export function guardedLookup(lookup: LookupFunction, options: InternalHostOptions): LookupFunction {
  return ((hostname: string, lookupOptions: unknown, callback: (...args: unknown[]) => void) => {
    const done = typeof lookupOptions === 'function' ? (lookupOptions as typeof callback) : callback;
    const internal = internalHost(hostname, options);
    if (internal) {
      const error = new InternalHostError(internal);
      process.nextTick(() => done(error));
      return;
    }
    (lookup as (...args: unknown[]) => void)(hostname, lookupOptions, callback);
  }) as LookupFunction;
}

/**
 * One request through a got instance, reading at most `maxResponseBytes` of the answer (a receiver
 * streaming without end is cut off; the status still counts).
 */
export async function sendThroughGot(client: Got, request: OutgoingRequest, maxResponseBytes: number, waitedMs = 0): Promise<SendResult> {
  const started = performance.now() - waitedMs;
  const elapsed = () => Math.round(performance.now() - started);
  const stream = client.stream(request.url, {
    method: request.method as 'POST',
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    timeout: { request: request.timeoutMs },
  });
  let response: { statusCode: number; headers: Record<string, string | string[] | undefined> } | undefined;
  stream.once('response', (res: typeof response) => (response = res));
  const chunks: Buffer[] = [];
  let read = 0;
  let truncated = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const room = maxResponseBytes - read;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      read += Math.min(chunk.length, room);
      if (chunk.length > room) {
        truncated = true;
        break; // leaving the loop destroys the stream: the rest is never read
      }
    }
  } catch (error) {
    // A reset after the status arrived still tells us the status; anything else is a transport error.
    if (!response) return { kind: 'error', ...describeError(error), durationMs: elapsed() };
    truncated = true;
  }
  if (!response) return { kind: 'error', code: 'ENORESPONSE', message: 'the connection closed without a response', durationMs: elapsed() };
  return { kind: 'response', status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks), truncated, durationMs: elapsed() };
}

function describeError(error: unknown): { code: string; message: string } {
  const err = error as { code?: string; message?: string; cause?: { message?: string } };
  const message = err.message ?? String(error);
  const internal = [error, err.cause].find((candidate) => candidate instanceof InternalHostError);
  if (internal) return refusedName(internal.found);
  const filterMessage = [message, err.cause?.message].find((text) => text && /^DNS lookup .* is not allowed/.test(text));
  if (filterMessage) {
    const address = /^DNS lookup (\S+?)\(/.exec(filterMessage)?.[1];
    return {
      code: DESTINATION_REFUSED,
      message: `destination refused: ${address ?? 'the address'} is not a public address (loopback, private, link-local/metadata, CGNAT, unique-local, multicast and unspecified addresses are never called)`,
    };
  }
  return { code: err.code ?? 'ERR_REQUEST', message };
}
