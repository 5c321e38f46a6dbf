import type { EventMessage } from '../events/event-message.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';
import { STANDARD_HEADERS } from '../send/standard-headers.ts';
import { signatureHeaders, signingKey } from '../send/standard-webhooks-signature.ts';
import { BODY_ESCAPE, CONTENT_TYPES, bodySyntaxCheck, type BodySyntaxCheck } from './body-formats.ts';
import { RENDER_LIMITS } from './render-limits.ts';
import { wellFormed } from './output-escapers.ts';
import { TemplateError, type PreparedTemplate, type TemplateEngine } from './template-engine.ts';
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
const STANDARD_HEADER_NAMES = new Set(Object.keys(STANDARD_HEADERS).map((name) => name.toLowerCase()));
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node's http module accepts in a header value; anything else (CR, LF, NUL...) never reaches the socket.
const HEADER_VALUE_INVALID = /[^\t\u0020-\u007e\u0080-\u00ff]/;

const usesSecrets = (source: string): boolean => /\bsecrets\b/.test(source);

/**
 * What a webhook version needs for every request, worked out once: its templates parsed, and every
 * check that does not depend on the event (host lock, header names). A problem found here is kept and
 * thrown at the same point of building as it would be if checked per delivery, so errors read the same.
 */
interface RequestPlan {
  engine: TemplateEngine;
  targets: Partial<Record<DeliveryTarget, UrlPlan>>;
  query: Array<{ encodedName: string; template: PreparedTemplate }>;
  headers: Array<{ problem: TemplateError } | { problem: undefined; name: string; template: PreparedTemplate }>;
  secretHeaders: string[];
  /** Content-Type to add: the format's, when the request has a body and the webhook sets none. */
  contentType: string | undefined;
  /** Absent for GET and HEAD. */
  body: { template: PreparedTemplate | undefined; check: BodySyntaxCheck } | undefined;
  /** The header `auth` sets (oauth2's is added at send time), or why it cannot. */
  auth: { problem: TemplateError } | { problem: undefined; header: string } | undefined;
}

type UrlPlan = { field: string; problem: TemplateError } | { field: string; problem: undefined; template: PreparedTemplate };

// Keyed by the webhook object: the webhook cache hands out the same object for a whole cache period,
// and a changed document becomes a new object, so a plan never outlives the version it describes.
// The promise is kept, not the plan, so that the deliveries of a burst that start together share one.
const plans = new WeakMap<WebhookConfig, { engine: TemplateEngine; plan: Promise<RequestPlan> }>();

function requestPlan(webhook: WebhookConfig, engine: TemplateEngine): Promise<RequestPlan> {
  const known = plans.get(webhook);
  if (known?.engine === engine) return known.plan;
  const plan = makeRequestPlan(webhook, engine);
  plans.set(webhook, { engine, plan });
  // A plan that could not be made (a parser failed to load) is not kept: the next delivery tries again.
  plan.catch(() => {
    if (plans.get(webhook)?.plan === plan) plans.delete(webhook);
  });
  return plan;
}

async function makeRequestPlan(webhook: WebhookConfig, engine: TemplateEngine): Promise<RequestPlan> {
  const hasBody = webhook.method !== 'GET' && webhook.method !== 'HEAD';
  const headers: RequestPlan['headers'] = [];
  const secretHeaders: string[] = [];
  let setsContentType = false;
  for (const [name, source] of Object.entries(webhook.headers)) {
    const field = `headers.${name}`;
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      headers.push({ problem: new TemplateError(field, `'${name}' is not a valid header name`) });
    } else if (RESERVED_HEADERS.has(lower)) {
      headers.push({ problem: new TemplateError(field, `${name} is set by the HTTP client and cannot be configured`) });
    } else if (!STANDARD_HEADER_NAMES.has(lower)) {
      // The standard headers always name the product (seed 001): a webhook's own are ignored.
      headers.push({ problem: undefined, name, template: engine.prepare(field, source, 'none') });
      if (usesSecrets(source)) secretHeaders.push(name);
      if (lower === 'content-type') setsContentType = true;
    }
  }
  return {
    engine,
    auth: authPlan(webhook),
    targets: {},
    query: Object.entries(webhook.query).map(([name, source]) => ({ encodedName: encodeURIComponent(name), template: engine.prepare(`query.${name}`, source, 'none') })),
    headers,
    secretHeaders,
    contentType: hasBody && !setsContentType ? CONTENT_TYPES[webhook.format] : undefined,
    body: hasBody
      ? { template: webhook.body === undefined ? undefined : engine.prepare('body', webhook.body, BODY_ESCAPE[webhook.format]), check: await bodySyntaxCheck(webhook.format) }
      : undefined,
  };
}

/** The header `auth` sets: a valid name the client and the standard headers leave alone, not also in `headers`. */
function authPlan(webhook: WebhookConfig): RequestPlan['auth'] {
  const auth = webhook.auth;
  if (!auth) return undefined;
  const header = auth.type === 'header' ? auth.name : 'Authorization';
  const field = auth.type === 'header' ? 'auth.name' : 'auth';
  const lower = header.toLowerCase();
  if (!HEADER_NAME.test(header)) return { problem: new TemplateError(field, `'${header}' is not a valid header name`) };
  if (RESERVED_HEADERS.has(lower) || STANDARD_HEADER_NAMES.has(lower)) return { problem: new TemplateError(field, `${header} is set by hookshape or the HTTP client and cannot carry credentials`) };
  const clash = Object.keys(webhook.headers).find((name) => name.toLowerCase() === lower);
  if (clash !== undefined) return { problem: new TemplateError(`headers.${clash}`, `auth (${auth.type}) sets ${header}: remove headers.${clash}, or auth`) };
  return { problem: undefined, header };
}

/** The credential header of a basic, bearer or header `auth`, from the account's secrets. */
function authHeader(webhook: WebhookConfig, plan: RequestPlan, secrets: Record<string, string>): { name: string; value: string; derived: string[] } | undefined {
  const auth = webhook.auth;
  if (!auth || !plan.auth) return undefined;
  if (plan.auth.problem) throw plan.auth.problem;
  if (auth.type === 'oauth2') return undefined; // the token is fetched when the request is sent
  const [field, name] = auth.type === 'basic' ? ['auth.passwordSecretName', auth.passwordSecretName] : auth.type === 'bearer' ? ['auth.tokenSecretName', auth.tokenSecretName] : ['auth.valueSecretName', auth.valueSecretName];
  const secret = secrets[name];
  if (secret === undefined) throw new TemplateError(field, `the account has no secret named ${name}`);
  const credentials = auth.type === 'basic' ? Buffer.from(`${auth.username}:${secret}`).toString('base64') : undefined;
  const value = auth.type === 'basic' ? `Basic ${credentials}` : auth.type === 'bearer' ? `Bearer ${secret}` : secret;
  if (HEADER_VALUE_INVALID.test(value) || value.length > RENDER_LIMITS.headerValueChars) throw new TemplateError(field, `the secret ${name} cannot be sent in a header (a control character, or over ${RENDER_LIMITS.headerValueChars} characters)`);
  return { name: plan.auth.header, value, derived: credentials ? [credentials] : [] };
}

function urlPlan(plan: RequestPlan, webhook: WebhookConfig, target: DeliveryTarget): UrlPlan {
  const known = plan.targets[target];
  if (known) return known;
  const field = target === 'primary' ? 'url' : 'backupUrl';
  const source = target === 'primary' ? webhook.url : webhook.backupUrl;
  const hostLockProblem = source === undefined ? 'is not set' : checkUrlHostLock(source);
  const made: UrlPlan = hostLockProblem || source === undefined
    ? { field, problem: new TemplateError(field, hostLockProblem ?? 'is not set') }
    : { field, problem: undefined, template: plan.engine.prepare(field, source, 'url') };
  plan.targets[target] = made;
  return made;
}

function renderUrl(plan: RequestPlan, urlPlan: UrlPlan, context: TemplateContext): URL {
  if (urlPlan.problem) throw urlPlan.problem;
  const field = urlPlan.field;
  const rendered = plan.engine.renderPrepared(urlPlan.template, context).trim();
  if (rendered.length > RENDER_LIMITS.urlChars) {
    throw new TemplateError(field, `the rendered URL is ${rendered.length} characters; the limit is ${RENDER_LIMITS.urlChars}`);
  }
  // new URL would resolve a '.' or '..' segment (also written %2e), so data could move the request up
  // the receiver's paths (/users/{{ id }} with id '..'): a value in the path is one segment, never a way up.
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(rendered)?.[1] ?? '';
  const dotted = path.split('/').findIndex((segment, index) => index > 0 && /^(?:\.|%2e){1,2}$/i.test(segment));
  if (dotted > 0) {
    throw new TemplateError(field, `renders to a URL whose path segment ${dotted} is '.' or '..', which would send the request to another path of the receiver (a value in the path is one segment)`);
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

/** Appends the `query` map: each rendered value is encoded as one whole value. */
function appendQuery(url: URL, plan: RequestPlan, context: TemplateContext): string {
  if (plan.query.length === 0) return url.href;
  const pairs = plan.query.map(({ encodedName, template }) => `${encodedName}=${encodeURIComponent(wellFormed(plan.engine.renderPrepared(template, context)))}`);
  url.search = url.search ? `${url.search}&${pairs.join('&')}` : `?${pairs.join('&')}`;
  // The URL limit counts the query too.
  if (url.href.length > RENDER_LIMITS.urlChars) throw new TemplateError('query', `the URL with its query is ${url.href.length} characters; the limit is ${RENDER_LIMITS.urlChars}`);
  return url.href;
}

function renderHeaders(plan: RequestPlan, context: TemplateContext): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const step of plan.headers) {
    if (step.problem) throw step.problem;
    const field = step.template.field;
    const value = plan.engine.renderPrepared(step.template, context).trim();
    const bad = HEADER_VALUE_INVALID.exec(value);
    if (bad) {
      const code = bad[0].codePointAt(0)?.toString(16).padStart(4, '0');
      throw new TemplateError(field, `the rendered value contains the character U+${code}, which is not allowed in a header (CR, LF and other control characters could inject headers)`);
    }
    if (value.length > RENDER_LIMITS.headerValueChars) {
      throw new TemplateError(field, `the rendered value is ${value.length} characters; the limit is ${RENDER_LIMITS.headerValueChars}`);
    }
    headers[step.name] = value;
  }
  if (plan.contentType !== undefined) headers['Content-Type'] = plan.contentType;
  return headers;
}

function renderBody(webhook: WebhookConfig, plan: RequestPlan, context: TemplateContext, event: EventMessage): string | undefined {
  if (!plan.body) return undefined;
  if (!plan.body.template) return JSON.stringify(event);
  const body = plan.engine.renderPrepared(plan.body.template, context);
  const bytes = Buffer.byteLength(body);
  if (bytes > RENDER_LIMITS.bodyBytes) {
    throw new TemplateError('body', `the rendered body is ${bytes} bytes; the limit is ${RENDER_LIMITS.bodyBytes}`);
  }
  const problem = plan.body.check(body);
  if (problem) {
    const where = problem.line === undefined ? '' : ` at line ${problem.line}, column ${problem.column ?? 0} of the rendered body`;
    const line = problem.line === undefined ? '' : ` (rendered line: ${JSON.stringify(body.split('\n')[problem.line - 1] ?? '')})`;
    const hint = webhook.format === 'json' ? "; to insert a whole value (object, array, number or null) write {{ value | json }} without quotes" : '';
    throw new TemplateError('body', `the rendered body is not valid ${webhook.format.toUpperCase()}${where}: ${problem.message}${line}${hint}`);
  }
  return body;
}

/**
 * Standard Webhooks headers when the webhook names a signing secret; signed at each attempt's time.
 * During a rotation's overlap (previousSigningSecret, until its time) the previous secret signs too; a
 * previous secret that is gone or unusable adds nothing: the current one decides.
 */
function sign(webhook: WebhookConfig, event: EventMessage, secrets: Record<string, string>, body: string | undefined, now: Date): Record<string, string> | undefined {
  const name = webhook.signingSecretName;
  if (name === undefined) return undefined;
  const secret = secrets[name];
  if (secret === undefined) throw new TemplateError('signingSecretName', `the account has no secret named ${name}`);
  const key = signingKey(secret);
  if (!key.ok) throw new TemplateError('signingSecretName', `the secret ${name} ${key.reason}`);
  const keys = [key.key];
  const previous = webhook.previousSigningSecret;
  const previousSecret = previous && now.getTime() < previous.until.getTime() ? secrets[previous.name] : undefined;
  const previousKey = previousSecret === undefined ? undefined : signingKey(previousSecret);
  if (previousKey?.ok && !previousKey.key.equals(key.key)) keys.push(previousKey.key);
  // webhook-id is the event id: the same on every retry, so receivers can deduplicate on it.
  return signatureHeaders(keys, event.id, Math.floor(now.getTime() / 1000), body ?? '');
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
    const plan = await requestPlan(webhook, engine);
    const context = templateContext(webhook, event, secrets);
    const url = appendQuery(renderUrl(plan, urlPlan(plan, webhook, target), context), plan, context);
    const headers = renderHeaders(plan, context);
    const body = renderBody(webhook, plan, context, event);
    const auth = authHeader(webhook, plan, secrets);
    if (auth) headers[auth.name] = auth.value;
    Object.assign(headers, STANDARD_HEADERS, sign(webhook, event, secrets, body, now));
    return {
      ok: true,
      request: {
        method: webhook.method,
        url,
        headers,
        body,
        timeoutMs: webhook.timeoutSeconds * 1000,
        secretValues: [...Object.values(secrets).filter((value) => value.length > 0), ...(auth?.derived ?? [])],
        secretHeaders: plan.auth && !plan.auth.problem ? [...plan.secretHeaders, plan.auth.header] : plan.secretHeaders,
      },
    };
  } catch (error) {
    if (error instanceof TemplateError) return { ok: false, error };
    throw error;
  }
}
