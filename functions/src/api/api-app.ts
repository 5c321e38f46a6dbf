/**
 * The management API: JSON under /v1, described by the OpenAPI 3.1 document at /v1/openapi.json that
 * is generated from the route table (routes.ts). Middleware, in the order it runs:
 *   1. request id, one structured log line per request, problem details for every error;
 *   2. secure headers (nosniff, no-store), CORS for the configured origins only;
 *   3. /v1/accounts/{accountId}/*: the credential (401), then the account (404: another account's
 *      resources do not exist for it, whether they exist or not);
 *   4. the body: at most 256 KiB of JSON, at most 20 levels deep, no prototype keys;
 *   5. per route: the scope (403), then parameters, headers and body by the route's schemas.
 */
import { randomBytes } from 'node:crypto';
import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { classifyFailure, errorMessage } from '../core/failures.ts';
import type { Logger } from '../log/logger.ts';
import { VERSION } from '../version.ts';
import type { ZodIssue } from './zod-issue.ts';
import type { ApiDeps, RequestContext } from './api-deps.ts';
import { authenticate, mayActFor, type Principal } from './authenticate.ts';
import type { Scope } from './customer-tokens.ts';
import * as deliveries from './delivery-handlers.ts';
import { createPortalSession } from './portal-sessions.ts';
import { ApiProblem, fieldOf, notFound, pointerOf, PROBLEM_CONTENT_TYPE, type ProblemCode, type ProblemField } from './problem.ts';
import { portalFile } from './portal-static.ts';
import { checkedKey, IDEMPOTENCY_HEADER, idempotent } from './idempotency.ts';
import { checkBody } from './request-body.ts';
import { scaffoldWebhookDraft } from './scaffold-handler.ts';
import { routes, SECURITY_SCHEME, type ApiRoute } from './routes.ts';
import * as webhooks from './webhook-handlers.ts';
import type { ApiResult } from './webhook-handlers.ts';

export const OPENAPI_PATH = '/v1/openapi.json';

type ApiEnv = { Variables: { requestId: string; logger: Logger; principal: Principal; accountId: string } };
type Ctx = Context<ApiEnv>;

function problemResponse(c: Ctx, problem: ApiProblem): Response {
  const requestId = c.get('requestId') ?? 'unknown';
  return c.body(JSON.stringify(problem.toProblem(requestId)), problem.status as 400, { 'Content-Type': PROBLEM_CONTENT_TYPE, ...problem.headers });
}

/** zod issues as field problems; an unknown key becomes one problem per key, named by the key. */
export function issueFields(issues: readonly ZodIssue[]): ProblemField[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return (issue.keys ?? []).map((key) => ({ field: fieldOf([...issue.path, key]), pointer: pointerOf([...issue.path, key]), message: 'is not a field of this request (unknown fields are refused)' }));
    }
    return [{ field: fieldOf(issue.path), pointer: pointerOf(issue.path), message: issue.message }];
  });
}

const HTTP_CODES: Record<number, ProblemCode> = { 400: 'invalid_request', 404: 'not_found', 413: 'payload_too_large', 415: 'unsupported_media_type' };

function send(c: Ctx, result: ApiResult): Response {
  if (result.status === 204) return c.body(null, 204, result.headers);
  return c.json(result.body as object, result.status as 200, result.headers);
}

export function createApiApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({
    // Where a route's schema refuses the request: path parameters name nothing that exists (404), a
    // missing If-Match is a 428, a query parameter is a 400, a body a 422; each with its fields.
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const target = (result as { target?: string }).target;
      const errors = issueFields(result.error.issues as unknown as ZodIssue[]);
      const detail = errors.map((error) => (error.field ? `${error.field}: ${error.message}` : error.message)).join('; ');
      if (target === 'param') return problemResponse(c as Ctx, notFound());
      if (target === 'header') return problemResponse(c as Ctx, new ApiProblem('precondition_required', `If-Match ${errors[0]?.message ?? 'is required'}`));
      return problemResponse(c as Ctx, new ApiProblem(target === 'query' ? 'invalid_request' : 'validation_failed', detail, { errors }));
    },
  });

  app.use('*', async (c, next) => {
    const started = Date.now();
    const requestId = randomBytes(8).toString('hex');
    const logger = deps.logger.child({ component: 'api', requestId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    await next();
    c.header('X-Request-Id', requestId);
    const principal = c.get('principal');
    logger.log(c.res.status >= 500 ? 'ERROR' : 'INFO', `${c.req.method} ${c.req.routePath} ${c.res.status}`, {
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Date.now() - started,
      actor: principal?.actor ?? null,
      accountId: c.get('accountId') ?? null,
    });
  });
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    // The portal's files set their own (hashed assets are immutable); everything else is never cached.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });
  app.use(
    '*',
    cors({
      origin: (origin) => (deps.corsOrigins.includes(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key'],
      exposeHeaders: ['ETag', 'Location', 'X-Request-Id', 'Idempotent-Replayed', 'Retry-After'],
      maxAge: 600,
    }),
  );

  // The customer portal (portal-static.ts): public static files; the token stays in the URL fragment.
  app.get('/portal', (c) => c.redirect('/portal/', 301));
  app.get('/portal/*', async (c) => {
    if (!deps.portal) return problemResponse(c, notFound());
    let path: string;
    try {
      path = decodeURIComponent(new URL(c.req.url).pathname.slice('/portal/'.length));
    } catch {
      return problemResponse(c, notFound()); // a malformed escape (/portal/%) names no file
    }
    const answer = await portalFile(deps.portal, path);
    return c.body(answer.body as never, answer.status as 200, answer.headers);
  });

  app.use('/v1/accounts/:accountId/*', async (c, next) => {
    const logger = c.get('logger');
    const authentication = await authenticate(c.req.header('Authorization'), { keys: deps.keys, tokens: deps.tokens, now: deps.clock.now() });
    if (!authentication.ok) {
      logger.log('WARNING', `request refused: ${authentication.reason}`, { reason: authentication.reason });
      return problemResponse(c, new ApiProblem('unauthenticated', 'send Authorization: Bearer <API key or token>; this one is missing, malformed, expired or revoked', { headers: { 'WWW-Authenticate': 'Bearer realm="hookshape"' } }));
    }
    const { principal } = authentication;
    c.set('principal', principal);
    const accountId = c.req.param('accountId');
    if (!mayActFor(principal, accountId)) {
      logger.log('WARNING', `${principal.actor} asked for another account's resource`, { askedFor: accountId, credentialAccount: principal.accountId });
      return problemResponse(c, notFound());
    }
    c.set('accountId', accountId);
    if (principal.kind === 'apiKey') {
      // Bookkeeping: a failure to record the use must not fail the request.
      deps.keys.touch(principal.id, deps.clock.now()).catch((error: unknown) => logger.log('WARNING', `could not record the use of API key ${principal.id}: ${errorMessage(error)}`));
    }
    await next();
  });

  app.use('*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const refused = checkBody(Buffer.from(await c.req.arrayBuffer()), c.req.header('Content-Type'));
    if (refused) return problemResponse(c, refused);
    return next();
  });

  const requireScope = (scopes: readonly Scope[]): MiddlewareHandler<ApiEnv> => async (c, next) => {
    const principal = c.get('principal');
    const missing = scopes.find((scope) => !principal?.scopes.has(scope));
    if (missing) return problemResponse(c, new ApiProblem('insufficient_scope', `this needs the scope ${missing}${scopes.length > 1 ? ` (all of ${scopes.join(', ')})` : ''}`, { extensions: { requiredScope: missing } }));
    return next();
  };

  const contextOf = (c: Ctx): RequestContext => ({
    principal: c.get('principal'),
    requestId: c.get('requestId'),
    logger: c.get('logger'),
    origin: `${c.req.header('X-Forwarded-Proto')?.split(',')[0]?.trim() || new URL(c.req.url).protocol.replace(':', '')}://${c.req.header('Host') ?? new URL(c.req.url).host}`,
  });

  // The handlers read what the route's schemas validated; the types come from the same schemas.
  type Valid = { param: Record<string, string>; query: never; json: never; header: Record<string, string | undefined> };
  const valid = <K extends keyof Valid>(c: Ctx, target: K): Valid[K] => (c.req.valid as (target: K) => Valid[K])(target);
  const on = (apiRoute: ApiRoute, run: (c: Ctx, context: RequestContext) => Promise<ApiResult> | ApiResult) => {
    const config = { ...apiRoute.route, middleware: [requireScope([apiRoute.scope, ...apiRoute.alsoScopes])] } as RouteConfig;
    app.openapi(config, (async (c: Ctx) => {
      const context = contextOf(c);
      const key = apiRoute.idempotent ? checkedKey(c.req.header(IDEMPOTENCY_HEADER)) : undefined;
      if (key === undefined) return send(c, await run(c, context));
      // After the credential, the account and the scope: a refused request takes no key.
      const request = { accountId: c.get('accountId'), key, method: c.req.method, path: new URL(c.req.url).pathname, body: new Uint8Array(await c.req.arrayBuffer()) };
      return send(c, await idempotent(deps, context.logger, request, async () => run(c, context)));
    }) as never);
  };
  const params = (c: Ctx) => valid(c, 'param');

  on(routes.listWebhooks, (c, context) => webhooks.listWebhooks(deps, context, params(c).accountId!, valid(c, 'query')));
  // The body as written, beside the validated one: some fields are stored as written (webhook-handlers.ts).
  const written = async (c: Ctx) => (await c.req.json()) as Record<string, unknown>;
  on(routes.createWebhook, async (c, context) => webhooks.createWebhook(deps, context, params(c).accountId!, valid(c, 'json'), await written(c)));
  on(routes.scaffoldWebhook, (c, context) => scaffoldWebhookDraft(deps, context, params(c).accountId!, valid(c, 'json')));
  on(routes.previewDraft, (c, context) => deliveries.previewDraft(deps, context, params(c).accountId!, valid(c, 'json')));
  on(routes.getWebhook, (c, context) => webhooks.getWebhook(deps, context, params(c).accountId!, params(c).webhookId!));
  on(routes.replaceWebhook, async (c, context) => webhooks.replaceWebhook(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'header')['if-match'], valid(c, 'json'), await written(c)));
  on(routes.patchWebhook, async (c, context) => webhooks.patchWebhook(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'header')['if-match'], await written(c)));
  on(routes.deleteWebhook, (c, context) => webhooks.deleteWebhook(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'header')['if-match']));
  on(routes.enableWebhook, (c, context) => webhooks.setEnabled(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'header')['if-match'], true));
  on(routes.disableWebhook, (c, context) => webhooks.setEnabled(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'header')['if-match'], false));
  on(routes.previewWebhook, (c, context) => deliveries.previewWebhook(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'json')));
  on(routes.testWebhook, (c, context) => deliveries.testWebhook(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'json')));
  on(routes.setSigningSecret, (c, context) => deliveries.setSigningSecret(deps, context, params(c).accountId!, params(c).webhookId!, valid(c, 'json')));
  on(routes.listDeliveries, (c, context) => deliveries.listDeliveries(deps, context, params(c).accountId!, valid(c, 'query')));
  on(routes.getDelivery, (c, context) => deliveries.getDelivery(deps, context, { accountId: params(c).accountId!, webhookId: params(c).webhookId!, eventId: params(c).eventId! }));
  on(routes.replayDelivery, (c, context) => deliveries.replayDelivery(deps, context, { accountId: params(c).accountId!, webhookId: params(c).webhookId!, eventId: params(c).eventId! }));
  on(routes.createRecoverJob, (c, context) => deliveries.createRecoverJob(deps, context, params(c).accountId!, valid(c, 'json')));
  on(routes.getRecoverJob, (c, context) => deliveries.getRecoverJob(deps, context, params(c).accountId!, params(c).jobId!));
  on(routes.listEventTypes, () => deliveries.listEventTypes());
  on(routes.createPortalSession, (c, context) => createPortalSession(deps, context, params(c).accountId!, valid(c, 'json')));

  app.openAPIRegistry.registerComponent('securitySchemes', SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'A platform API key (hks_…) or a customer token (a JWT from POST /v1/accounts/{accountId}/portal-sessions). Each route names the scope it needs; platform keys hold every scope.',
  });
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'hookshape management API', version: VERSION, description: 'Webhooks, their delivery log, replays and customer tokens. Errors are RFC 9457 problem details (application/problem+json).' },
  });
  app.get(OPENAPI_PATH, (c) => c.json(document));

  app.notFound((c) => problemResponse(c as Ctx, notFound()));
  app.onError((error, c) => {
    const ctx = c as Ctx;
    if (error instanceof ApiProblem) return problemResponse(ctx, error);
    if (error instanceof HTTPException && error.status < 500) {
      return problemResponse(ctx, new ApiProblem(HTTP_CODES[error.status] ?? 'invalid_request', error.message || 'the request is not one this route takes'));
    }
    const transient = classifyFailure(error) === 'transient';
    (ctx.get('logger') ?? deps.logger).log('ERROR', `request failed: ${errorMessage(error)}`, { errorCode: transient ? 'unavailable' : 'internal_error', stack: (error as Error)?.stack ?? null });
    return problemResponse(ctx, transient ? new ApiProblem('unavailable', 'a dependency failed for a moment; try again', { headers: { 'Retry-After': '2' } }) : new ApiProblem('internal_error', 'internal error (the log has the details, by requestId)'));
  });
  return app;
}
