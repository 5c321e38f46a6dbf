/**
 * OAuth 2 client credentials (RFC 6749 §4.4) for webhooks with `auth.type: oauth2`. The token request
 * goes through the deliveries' own HttpSender, so the same destination guard (internal host names,
 * non-public addresses, no redirects) and the same read limit apply to the token endpoint. Tokens are
 * kept per webhook until shortly before they expire, and concurrent deliveries share one request for
 * a new token (single flight). Pure apart from that sender: no client of its own.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/ports.ts';
import type { Logger } from '../log/logger.ts';
import { PRODUCT, VERSION } from '../version.ts';
import type { WebhookAuth, WebhookConfig } from '../webhooks/webhook-config.ts';
import { DESTINATION_REFUSED, TOKEN_REJECTED, TOKEN_UNAVAILABLE, type HttpSender, type SendResult } from './http-sender.ts';

export type OAuth2Auth = Extract<WebhookAuth, { type: 'oauth2' }>;


/** The longest a token request may take (less when the attempt has less time left). */
export const TOKEN_TIMEOUT_MS = 10_000;
/** Without `expires_in`, a token is used this long (a 401 from the receiver still refreshes it). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
/** Tokens are never kept longer than this, whatever `expires_in` says. */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** A token is refreshed this long before it expires (or a tenth of its life, if shorter). */
export const TOKEN_REFRESH_MARGIN_SECONDS = 60;
const MAX_ENTRIES = 10_000;
const MAX_TOKEN_CHARS = 8 * 1024;

export type TokenResult =
  | { ok: true; token: string }
  /** `failure` is what the attempt records instead of a response: an error with one of the codes above. */
  | { ok: false; failure: Extract<SendResult, { kind: 'error' }> };

/** Where oauth2 deliveries get their bearer token. */
export interface TokenSource {
  /** `timeoutMs`: the most a token request may take (the attempt's time left), at most TOKEN_TIMEOUT_MS. */
  token(webhook: Pick<WebhookConfig, 'accountId' | 'id'>, auth: OAuth2Auth, secrets: Record<string, string>, logger: Logger, timeoutMs?: number): Promise<TokenResult>;
  /** The receiver answered 401 to `token`: the next token() fetches a new one (unless one already did). */
  invalidate(webhook: Pick<WebhookConfig, 'accountId' | 'id'>, token: string): void;
}

interface Entry {
  /** Of the settings the token was asked with: a changed client, scope or rotated secret asks again. */
  fingerprint: string;
  pending: Promise<TokenResult> | undefined;
  token: string | undefined;
  refreshAtMs: number;
}

export interface OAuth2TokensOptions {
  /** http token URLs on loopback are accepted (local stack, tests), as the sender accepts loopback. */
  allowLoopback: boolean;
}

/**
 * Why a token URL must not be used, if so: the client secret travels to it, so only https — or plain
 * http to loopback where loopback destinations are allowed (local stack, tests).
 */
export function tokenUrlProblem(tokenUrl: string, allowLoopback: boolean): string | undefined {
  const url = new URL(tokenUrl);
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  return url.protocol === 'https:' || (allowLoopback && loopback) ? undefined : 'must be https: the client secret is sent to it';
}

const keyOf = (webhook: Pick<WebhookConfig, 'accountId' | 'id'>) => `${webhook.accountId}/${webhook.id}`;
const failure = (code: typeof TOKEN_REJECTED | typeof TOKEN_UNAVAILABLE | typeof DESTINATION_REFUSED, message: string, durationMs = 0): Extract<TokenResult, { ok: false }> => ({ ok: false, failure: { kind: 'error', code, message, durationMs } });
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

/** The token endpoint's own explanation (RFC 6749 §5.2), never the rest of its body. */
function oauthError(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown; error_description?: unknown };
    const parts = [parsed.error, parsed.error_description].filter((part): part is string => typeof part === 'string').map((part) => part.slice(0, 200));
    return parts.length > 0 ? `: ${parts.join(': ')}` : '';
  } catch {
    return '';
  }
}

export class OAuth2Tokens implements TokenSource {
  private readonly sender: HttpSender;
  private readonly clock: Clock;
  private readonly options: OAuth2TokensOptions;
  private readonly entries = new Map<string, Entry>();

  constructor(sender: HttpSender, clock: Clock, options: OAuth2TokensOptions) {
    this.sender = sender;
    this.clock = clock;
    this.options = options;
  }

  token(webhook: Pick<WebhookConfig, 'accountId' | 'id'>, auth: OAuth2Auth, secrets: Record<string, string>, logger: Logger, timeoutMs = TOKEN_TIMEOUT_MS): Promise<TokenResult> {
    const secret = secrets[auth.clientSecretName];
    if (secret === undefined) return Promise.resolve(failure(TOKEN_REJECTED, `auth.clientSecretName: the account has no secret named ${auth.clientSecretName}`));
    const key = keyOf(webhook);
    const fingerprint = createHash('sha256').update(JSON.stringify([auth.tokenUrl, auth.clientId, auth.scope ?? null, auth.audience ?? null, secret])).digest('hex');
    const known = this.entries.get(key);
    if (known?.fingerprint === fingerprint) {
      if (known.pending) return known.pending;
      if (known.token !== undefined && this.clock.now().getTime() < known.refreshAtMs) return Promise.resolve({ ok: true, token: known.token });
    }
    const entry: Entry = { fingerprint, pending: undefined, token: undefined, refreshAtMs: 0 };
    const forget = () => this.entries.get(key) === entry && this.entries.delete(key);
    entry.pending = (async (): Promise<TokenResult> => {
      let fetched: Awaited<ReturnType<OAuth2Tokens['fetch']>>;
      try {
        fetched = await this.fetch(auth, secret, logger, Math.min(TOKEN_TIMEOUT_MS, Math.max(1, timeoutMs)));
      } catch (error) {
        forget();
        throw error;
      } finally {
        entry.pending = undefined;
      }
      if (!fetched.ok) {
        forget(); // failures are not kept: the next delivery asks again
        return fetched;
      }
      const { token, lifetimeSeconds } = fetched;
      entry.token = token;
      entry.refreshAtMs = this.clock.now().getTime() + 1000 * (lifetimeSeconds - Math.min(TOKEN_REFRESH_MARGIN_SECONDS, lifetimeSeconds / 10));
      return { ok: true, token };
    })();
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return entry.pending;
  }

  invalidate(webhook: Pick<WebhookConfig, 'accountId' | 'id'>, token: string): void {
    const entry = this.entries.get(keyOf(webhook));
    // Only the token that was refused: a newer one (or one being fetched) is kept, so fifty 401s to
    // fifty concurrent deliveries make one new token request.
    if (entry && !entry.pending && entry.token === token) this.entries.delete(keyOf(webhook));
  }

  private async fetch(auth: OAuth2Auth, secret: string, logger: Logger, timeoutMs: number): Promise<{ ok: true; token: string; lifetimeSeconds: number } | Extract<TokenResult, { ok: false }>> {
    const url = new URL(auth.tokenUrl);
    const problem = tokenUrlProblem(auth.tokenUrl, this.options.allowLoopback);
    if (problem) return failure(TOKEN_REJECTED, `auth.tokenUrl ${problem} (${url.origin}${url.pathname})`);
    const form = [['grant_type', 'client_credentials'], ...(auth.scope ? [['scope', auth.scope]] : []), ...(auth.audience ? [['audience', auth.audience]] : [])];
    // client_secret_basic (RFC 6749 §2.3.1): the method every authorization server must support.
    const basic = Buffer.from(`${formEncode(auth.clientId)}:${formEncode(secret)}`).toString('base64');
    const sent = await this.sender.send({
      method: 'POST',
      url: auth.tokenUrl,
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        Authorization: `Basic ${basic}`,
        'User-Agent': `${PRODUCT}/${VERSION} (+webhooks)`,
      },
      body: form.map(([name, value]) => `${name}=${formEncode(value!)}`).join('&'),
      timeoutMs,
      secretValues: [secret, basic],
      secretHeaders: ['Authorization'],
    });
    const where = `the OAuth2 token endpoint ${url.origin}${url.pathname}`;
    if (sent.kind === 'error') {
      if (sent.code === DESTINATION_REFUSED) return failure(DESTINATION_REFUSED, `${where}: ${sent.message}`, sent.durationMs);
      return failure(TOKEN_UNAVAILABLE, `${where} could not be reached: ${sent.code}: ${sent.message}`, sent.durationMs);
    }
    if (sent.status === 429 || sent.status >= 500) return failure(TOKEN_UNAVAILABLE, `${where} answered HTTP ${sent.status}${oauthError(sent.body)}`, sent.durationMs);
    if (sent.status < 200 || sent.status >= 300) return failure(TOKEN_REJECTED, `${where} answered HTTP ${sent.status}${oauthError(sent.body)} (check auth.clientId, the secret ${auth.clientSecretName}, scope and audience)`, sent.durationMs);
    let answer: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(sent.body.toString('utf8'));
    } catch {
      return failure(TOKEN_REJECTED, `${where} answered HTTP ${sent.status} without a JSON body (is auth.tokenUrl the token endpoint?)`, sent.durationMs);
    }
    const token = answer?.access_token;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS || /[^\u0021-\u007e]/.test(token)) {
      return failure(TOKEN_REJECTED, `${where} answered without a usable access_token`, sent.durationMs);
    }
    if (answer.token_type !== undefined && String(answer.token_type).toLowerCase() !== 'bearer') {
      return failure(TOKEN_REJECTED, `${where} issued a ${String(answer.token_type).slice(0, 40)} token; hookshape sends Bearer tokens only`, sent.durationMs);
    }
    const expiresIn = Number(answer.expires_in);
    const lifetimeSeconds = Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, MAX_TOKEN_LIFETIME_SECONDS) : DEFAULT_TOKEN_LIFETIME_SECONDS;
    logger.log('INFO', `OAuth2 token fetched from ${url.origin}${url.pathname}, used for ${Math.round(lifetimeSeconds)} s at most`, { oauth2: 'token-fetched', lifetimeSeconds, durationMs: sent.durationMs });
    return { ok: true, token, lifetimeSeconds };
  }
}
