import type { OutgoingRequest } from '../render/build-request.ts';

/** What came back from one HTTP attempt: a response (any status) or a transport error. */
export type SendResult =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string | string[] | undefined>;
      /** The first bytes of the body, up to the sender's read limit. */
      body: Buffer;
      /** True when the receiver sent more than the read limit and the rest was not read. */
      truncated: boolean;
      durationMs: number;
    }
  | {
      kind: 'error';
      /** A stable code: ETIMEDOUT, ECONNREFUSED, ECONNRESET, ENOTFOUND, EDESTINATION_REFUSED... */
      code: string;
      message: string;
      durationMs: number;
    };

export interface HttpSender {
  send(request: OutgoingRequest): Promise<SendResult>;
}

/** Bytes of a response body read before the connection is cut; a receiver streaming forever stops here. */
export const MAX_RESPONSE_READ_BYTES = 64 * 1024;

/** The code a sender gives when the destination guard refused the address or an internal host name (never retried). */
export const DESTINATION_REFUSED = 'EDESTINATION_REFUSED';

/** An oauth2 webhook's token endpoint refused its credentials or answered no usable token (never retried). */
export const TOKEN_REJECTED = 'ETOKEN_REJECTED';
/** An oauth2 webhook's token endpoint could not be reached or answered 429/5xx (retried). */
export const TOKEN_UNAVAILABLE = 'ETOKEN_UNAVAILABLE';
