import type { EventMessage } from '../events/event-message.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';
import { STANDARD_HEADERS } from '../send/standard-headers.ts';
import { signatureHeaders, signingKey } from '../send/standard-webhooks-signature.ts';
import { BODY_ESCAPE, CONTENT_TYPES, checkBodySyntax } from './body-formats.ts';
import { RENDER_LIMITS } from './render-limits.ts';
import { TemplateError, type TemplateEngine } from './template-engine.ts';
import { checkUrlHostLock } from './url-host-lock.ts';

export type DeliveryTarget = 'primary' | 'backup';

/** An HTTP request ready to send, plus what the delivery log needs to redact it. */
export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  /** Secret values used while rendering: never written to a log in clear. */
  secretValues: string[];
  /** Headers whose template reads `secrets`: logged as redacted whatever their value. */
  secretHeaders: string[];
}

/** Everything a template can read. `secrets` holds only this account's secrets. */
export interface TemplateContext {
  event: Pick<EventMessage, 'id' | 'type' | 'accountId' | 'occurredAt'>;
  data: Record<string, unknown>;
  webhook: { id: string; name: string };
  secrets: Record<string, string>;
}

export function templateContext(webhook: WebhookConfig, event: EventMessage, secrets: Record<string, string>): TemplateContext {
  return {
    event: { id: event.id, type: event.type, accountId: event.accountId, occurredAt: event.occurredAt },
    data: event.data,
    webhook: { id: webhook.id, name: webhook.name },
    secrets,
  };
}

export type BuiltRequest = { ok: true; request: OutgoingRequest } | { ok: false; error: TemplateError };

// Framing and routing headers belong to the HTTP client: a template must not be able to desynchronise
// the request (smuggling) or re-route it.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node's http module accepts in a header value; anything else (CR, LF, NUL...) never reaches the socket.
const HEADER_VALUE_INVALID = /[^\t\u0020-\u007e\u0080-\u00ff]/;

const usesSecrets = (source: string): boolean => /\bsecrets\b/.test(source);

function renderUrl(engine: TemplateEngine, field: string, source: string, context: TemplateContext): URL {
  const hostLockProblem = checkUrlHostLock(source);
  if (hostLockProblem) throw new TemplateError(field, hostLockProblem);
  const rendered = engine.render(field, source, 'url', context).trim();
  if (rendered.length > RENDER_LIMITS.urlChars) {
    throw new TemplateError(field, `the rendered URL is ${rendered.length} characters; the limit is ${RENDER_LIMITS.urlChars}`);
  }
  let url: URL;
  try {
    url = new URL(rendered);
  } catch {
    // Every output is percent-encoded in a URL; a secret holding a base URL needs | raw.
    const hint = /^https?%3A/i.test(rendered) ? ' (a value holding a whole base URL must be written {{ secrets.BASE_URL | raw }}: outputs in a URL are percent-encoded)' : '';
    throw new TemplateError(field, `renders to '${rendered}', which is not an absolute URL${hint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TemplateError(field, `renders to a ${url.protocol.replace(':', '')} URL; only http and https are allowed`);
  }
  return url;
}

function renderHeaders(webhook: WebhookConfig, engine: TemplateEngine, context: TemplateContext, hasBody: boolean) {
  const headers: Record<string, string> = {};
  const secretHeaders: string[] = [];
  const standard = new Set(Object.keys(STANDARD_HEADERS).map((name) => name.toLowerCase()));
  for (const [name, source] of Object.entries(webhook.headers)) {
    const field = `headers.${name}`;
    if (!HEADER_NAME.test(name)) throw new TemplateError(field, `'${name}' is not a valid header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TemplateError(field, `${name} is set by the HTTP client and cannot be configured`);
    if (standard.has(name.toLowerCase())) continue; // the standard headers always name the product (seed 001)
    const value = engine.render(field, source, 'none', context).trim();
    const bad = HEADER_VALUE_INVALID.exec(value);
    if (bad) {
      const code = bad[0].codePointAt(0)?.toString(16).padStart(4, '0');
      throw new TemplateError(field, `the rendered value contains the character U+${code}, which is not allowed in a header (CR, LF and other control characters could inject headers)`);
    }
    if (value.length > RENDER_LIMITS.headerValueChars) {
      throw new TemplateError(field, `the rendered value is ${value.length} characters; the limit is ${RENDER_LIMITS.headerValueChars}`);
    }
    headers[name] = value;
    if (usesSecrets(source)) secretHeaders.push(name);
  }
  if (hasBody && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = CONTENT_TYPES[webhook.format];
  }
  return { headers: { ...headers, ...STANDARD_HEADERS }, secretHeaders };
}

/** Appends the `query` map: each rendered value is encoded as one whole value. */
function appendQuery(url: URL, webhook: WebhookConfig, engine: TemplateEngine, context: TemplateContext): string {
  const pairs = Object.entries(webhook.query).map(([name, source]) => {
    const value = engine.render(`query.${name}`, source, 'none', context);
    return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  });
  if (pairs.length === 0) return url.href;
  url.search = url.search ? `${url.search}&${pairs.join('&')}` : `?${pairs.join('&')}`;
  return url.href;
}

async function renderBody(webhook: WebhookConfig, engine: TemplateEngine, context: TemplateContext, event: EventMessage) {
  if (webhook.body === undefined) return JSON.stringify(event);
  const body = engine.render('body', webhook.body, BODY_ESCAPE[webhook.format], context);
  const bytes = Buffer.byteLength(body);
  if (bytes > RENDER_LIMITS.bodyBytes) {
    throw new TemplateError('body', `the rendered body is ${bytes} bytes; the limit is ${RENDER_LIMITS.bodyBytes}`);
  }
  const problem = await checkBodySyntax(webhook.format, body);
  if (problem) {
    const where = problem.line === undefined ? '' : ` at line ${problem.line}, column ${problem.column ?? 0} of the rendered body`;
    const line = problem.line === undefined ? '' : ` (rendered line: ${JSON.stringify(body.split('\n')[problem.line - 1] ?? '')})`;
    const hint = webhook.format === 'json' ? "; to insert a whole value (object, array, number or null) write {{ value | json }} without quotes" : '';
    throw new TemplateError('body', `the rendered body is not valid ${webhook.format.toUpperCase()}${where}: ${problem.message}${line}${hint}`);
  }
  return body;
}

/** Standard Webhooks headers when the webhook names a signing secret; signed at each attempt's time. */
function sign(webhook: WebhookConfig, event: EventMessage, secrets: Record<string, string>, body: string | undefined, now: Date): Record<string, string> {
  const name = webhook.signingSecretName;
  if (name === undefined) return {};
  const secret = secrets[name];
  if (secret === undefined) throw new TemplateError('signingSecretName', `the account has no secret named ${name}`);
  const key = signingKey(secret);
  if (!key.ok) throw new TemplateError('signingSecretName', `the secret ${name} ${key.reason}`);
  // webhook-id is the event id: the same on every retry, so receivers can deduplicate on it.
  return signatureHeaders(key.key, event.id, Math.floor(now.getTime() / 1000), body ?? '');
}

/**
 * Renders a webhook for an event into the exact request to send to the primary or backup URL. Expected
 * problems (bad template, bad URL, unsafe header, unparseable body) come back as a TemplateError value.
 */
export async function buildRequest(
  webhook: WebhookConfig,
  event: EventMessage,
  secrets: Record<string, string>,
  engine: TemplateEngine,
  target: DeliveryTarget = 'primary',
  now: Date = new Date(),
): Promise<BuiltRequest> {
  try {
    const context = templateContext(webhook, event, secrets);
    const urlField = target === 'primary' ? 'url' : 'backupUrl';
    const urlSource = target === 'primary' ? webhook.url : webhook.backupUrl;
    if (urlSource === undefined) throw new TemplateError(urlField, 'is not set');
    const url = appendQuery(renderUrl(engine, urlField, urlSource, context), webhook, engine, context);
    const hasBody = webhook.method !== 'GET' && webhook.method !== 'HEAD';
    const { headers, secretHeaders } = renderHeaders(webhook, engine, context, hasBody);
    const body = hasBody ? await renderBody(webhook, engine, context, event) : undefined;
    return {
      ok: true,
      request: {
        method: webhook.method,
        url,
        headers: { ...headers, ...sign(webhook, event, secrets, body, now) },
        body,
        timeoutMs: webhook.timeoutSeconds * 1000,
        secretValues: Object.values(secrets).filter((value) => value.length > 0),
        secretHeaders,
      },
    };
  } catch (error) {
    if (error instanceof TemplateError) return { ok: false, error };
    throw error;
  }
}
