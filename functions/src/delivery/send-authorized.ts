import type { Clock } from '../core/ports.ts';
import type { Logger } from '../log/logger.ts';
import type { OutgoingRequest } from '../render/build-request.ts';
import type { HttpSender, SendResult } from '../send/http-sender.ts';
import type { TokenSource } from '../send/oauth2-tokens.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';

/**
 * Sends the request. An oauth2 webhook's request gets its bearer token first (cached, or fetched
 * through the same sender); after a 401 the token is refreshed once and the request sent once more,
 * and the attempt records that second exchange, with a note. Token failures are the attempt's result.
 * The webhook's timeout bounds the whole attempt, token requests and the second send included, so an
 * attempt never takes longer than without auth (leases and function timeouts assume that).
 */
export async function sendAuthorized(deps: { sender: HttpSender; tokens?: TokenSource | undefined; clock: Clock }, webhook: WebhookConfig, secrets: Record<string, string>, request: OutgoingRequest, logger: Logger): Promise<{ request: OutgoingRequest; sent: SendResult; note?: string }> {
  const auth = webhook.auth;
  if (auth?.type !== 'oauth2') return { request, sent: await deps.sender.send(request) };
  if (!deps.tokens) throw new Error('an oauth2 webhook needs a token source (DeliveryDeps.tokens) and none is configured');
  const deadline = deps.clock.now().getTime() + request.timeoutMs;
  const left = () => deadline - deps.clock.now().getTime();
  const outOfTime: SendResult = { kind: 'error', code: 'ETIMEDOUT', message: `the OAuth2 token request used up the attempt's timeout (${request.timeoutMs} ms)`, durationMs: request.timeoutMs };
  // The token is a credential: redacted wherever the record could show it (an echoing receiver).
  const withToken = (token: string): OutgoingRequest => ({ ...request, headers: { ...request.headers, Authorization: `Bearer ${token}` }, secretValues: [...request.secretValues, token], timeoutMs: left() });
  const first = await deps.tokens.token(webhook, auth, secrets, logger, left());
  if (!first.ok) return { request, sent: first.failure };
  const authorized = withToken(first.token);
  if (authorized.timeoutMs <= 0) return { request: authorized, sent: outOfTime };
  const sent = await deps.sender.send(authorized);
  if (sent.kind !== 'response' || sent.status !== 401) return { request: authorized, sent };
  deps.tokens.invalidate(webhook, first.token);
  const note = (what: string) => ({ request: authorized, sent, note: `a 401 to the OAuth2 token: ${what}` });
  if (left() <= 0) return note("no time left of the attempt's timeout for a new token");
  const second = await deps.tokens.token(webhook, auth, secrets, logger, left());
  if (!second.ok) return { request: authorized, sent: { ...second.failure, message: `${second.failure.message} (a new token was needed: the receiver answered 401 to the previous one)` } };
  if (second.token === first.token) return note('the token endpoint gave the same token again');
  const again = withToken(second.token);
  if (again.timeoutMs <= 0) return note("no time left of the attempt's timeout to send it again");
  logger.log('NOTICE', 'the receiver answered 401: sending again with a new OAuth2 token', { oauth2: 'token-refreshed' });
  return { request: again, sent: await deps.sender.send(again), note: 'sent again with a new OAuth2 token after a 401 to the previous one' };
}
