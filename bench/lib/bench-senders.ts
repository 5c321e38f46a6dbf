/**
 * Bench-only variants of the production sender (functions/src/send/got-http-sender.ts), each differing
 * from it in one design choice, so the bench can show what that choice is worth. Streaming
 * variants call the production send function itself (sendThroughGot) with their own got instance;
 * all of it from the measured bundle (bench/measured). The production sender's queue per origin is
 * not copied: below 256 requests at once to one receiver (the send section's 64 at most) it holds none.
 * Nothing here is used by the functions.
 */
import { Agent } from 'node:http';
import type { Got } from 'got';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import type { HttpSender, SendResult } from '../../functions/src/send/http-sender.ts';
import { measuredCode } from '../measured/built.ts';

// The production send function, got and the SSRF-guarding agent as the bundle carries them, so that a
// variant differs from the production sender in its one choice only.
const { MAX_RESPONSE_READ_BYTES, RequestFilteringHttpAgent, got, sendThroughGot } = await measuredCode();

export interface SenderVariant {
  /** The SSRF-guarding agent of production, or a plain node:http agent. */
  agent: 'filtering' | 'plain';
  keepAlive: boolean;
  /** true: options given once to got.extend; false: the same options passed with every request. */
  extend: boolean;
  /** true: got's defaults for retry, redirects and HTTP errors; false: production's (none, none, none). */
  gotDefaults: boolean;
  /** 'stream': production's capped stream read; 'promise': got's promise API (reads the whole body, no cap). */
  api: 'stream' | 'promise';
}

export const PRODUCTION_VARIANT: SenderVariant = { agent: 'filtering', keepAlive: true, extend: true, gotDefaults: false, api: 'stream' };

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export class VariantSender implements HttpSender {
  private readonly client: Got;
  private readonly perRequest: Record<string, unknown>;
  private readonly variant: SenderVariant;

  constructor(variant: SenderVariant) {
    this.variant = variant;
    const agent =
      variant.agent === 'filtering'
        ? new RequestFilteringHttpAgent({ allowPrivateIPAddress: false, allowMetaIPAddress: false, allowIPAddressList: LOOPBACK, keepAlive: variant.keepAlive, maxSockets: 256 })
        : new Agent({ keepAlive: variant.keepAlive, maxSockets: 256 });
    const options: Record<string, unknown> = variant.gotDefaults
      ? { agent: { http: agent } }
      : { agent: { http: agent }, retry: { limit: 0 }, throwHttpErrors: false, followRedirect: false };
    this.client = variant.extend ? got.extend(options) : perRequest(options);
    this.perRequest = variant.extend ? {} : options;
  }

  async send(request: OutgoingRequest): Promise<SendResult> {
    return this.variant.api === 'stream' ? this.sendStream(request) : this.sendPromise(request);
  }

  private async sendPromise(request: OutgoingRequest): Promise<SendResult> {
    const started = performance.now();
    try {
      const response = await this.client(request.url, {
        ...this.perRequest,
        method: request.method as 'POST',
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        timeout: { request: request.timeoutMs },
        responseType: 'buffer',
      });
      const body = Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
      return { kind: 'response', status: response.statusCode, headers: response.headers, body, truncated: false, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      const err = error as { code?: string; message?: string };
      return { kind: 'error', code: err.code ?? 'ERR_REQUEST', message: err.message ?? String(error), durationMs: Math.round(performance.now() - started) };
    }
  }

  /** The production sender's own send function, with this variant's got instance. */
  private sendStream(request: OutgoingRequest): Promise<SendResult> {
    return sendThroughGot(this.client, request, MAX_RESPONSE_READ_BYTES);
  }
}

/**
 * Plain got with `options` merged into every stream request, as a caller that never extends got
 * would pass them: the production sender keeps no per-request hook for this.
 */
function perRequest(options: Record<string, unknown>): Got {
  const stream = (url: string, request: Record<string, unknown>) => got.stream(url, { ...options, ...request } as unknown as Parameters<typeof got.stream>[0]);
  return { stream } as unknown as Got;
}
