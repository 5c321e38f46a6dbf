/**
 * The route table: each route declares its parameters, body, responses and the scope it needs once;
 * the validators, the scope check and the OpenAPI document (`security` and `x-hookshape-scope`) all come
 * from it. Tests generate the cross-tenant matrix from the served OpenAPI document.
 */
import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import type { Scope } from './customer-tokens.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
import * as s from './schemas.ts';

export const SECURITY_SCHEME = 'bearer';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const problem = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: s.ProblemSchema } } });
const body = <T extends z.ZodType>(schema: T, required: boolean, mediaTypes: string[] = ['application/json']) => ({
  required,
  content: Object.fromEntries(mediaTypes.map((type) => [type, { schema }])),
});
const ifMatch = (required: boolean) =>
  z.object({
    'if-match': (required ? z.string({ error: 'is required: send the ETag you read (or * to overwrite whatever is there)' }) : z.string().optional()).openapi({
      param: { name: 'if-match', in: 'header' },
      description: required ? 'The ETag of the version being replaced, or * (RFC 9110).' : 'Optional: the ETag of the version this change is about.',
    }),
  });

const COMMON_PROBLEMS = {
  400: problem('A parameter or the body is not what the route takes.'),
  401: problem('No valid credential.'),
  403: problem('The credential lacks the scope.'),
  404: problem('No such resource, or not one this credential may see.'),
  413: problem('The body is over 256 KiB.'),
  415: problem('The body is not JSON.'),
  422: problem('The body is refused; `errors` names each field.'),
  500: problem('A fault in hookshape; the log has the details.'),
  503: problem('A dependency failed for a moment; try again.'),
};

export interface ApiRoute {
  route: RouteConfig;
  scope: Scope;
  /** Scopes needed besides `scope` (a route whose answer shows what another scope guards). */
  alsoScopes: Scope[];
  /** A POST that creates something: it takes an Idempotency-Key (idempotency.ts). */
  idempotent: boolean;
}

function route<R extends RouteConfig>(scope: Scope, config: R, alsoScopes: Scope[] = [], idempotent = false): ApiRoute & { route: R } {
  const responses = { ...COMMON_PROBLEMS, ...config.responses };
  return { scope, alsoScopes, idempotent, route: createRoute({ ...config, responses, security: [{ [SECURITY_SCHEME]: [scope, ...alsoScopes] }], 'x-hookshape-scope': scope } as R) };
}

// Checked by idempotency.ts (a 400 naming the header), not here: a header's schema error reads as If-Match's.
const idempotencyKeyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({
    param: { name: 'idempotency-key', in: 'header' },
    description: 'Optional: 1 to 255 printable ASCII characters (a UUID). The same request sent again with the same key within 24 hours gets the first answer again (with `Idempotent-Replayed: true`) and creates nothing more; only successful answers are kept.',
  }),
});

/** A POST that creates something, with its Idempotency-Key header and the answers that key can bring. */
function creating<R extends RouteConfig>(scope: Scope, config: R, alsoScopes: Scope[] = []): ApiRoute & { route: R } {
  const conflict = (config.responses as Record<string, { description?: string } | undefined>)[409]?.description;
  return route(
    scope,
    {
      ...config,
      request: { ...config.request, headers: idempotencyKeyHeader },
      responses: {
        ...config.responses,
        409: problem(`${conflict ? `${conflict} Or: ` : ''}a request with the same Idempotency-Key is still running (idempotency_key_in_use): send it again in a moment.`),
        422: problem('The body is refused (`errors` names each field), or the Idempotency-Key was used for another request (idempotency_key_reused).'),
      },
    },
    alsoScopes,
    true,
  );
}

const WEBHOOKS = '/v1/accounts/{accountId}/webhooks';
const WEBHOOK = `${WEBHOOKS}/{webhookId}`;

export const routes = {
  listWebhooks: route('webhooks:read', {
    method: 'get', path: WEBHOOKS, operationId: 'listWebhooks', tags: ['webhooks'], summary: "The account's webhooks, by id, a page at a time.",
    request: { params: s.AccountParams, query: s.PageQuery },
    responses: { 200: json(s.WebhookList, 'A page of webhooks.') },
  }),
  createWebhook: creating('webhooks:write', {
    method: 'post', path: WEBHOOKS, operationId: 'createWebhook', tags: ['webhooks'], summary: 'Validates the webhook like the dispatcher and writes it; the answer holds the validation result.',
    request: { params: s.AccountParams, body: body(s.WebhookCreate, true) },
    responses: { 201: json(s.Webhook, 'Created; ETag is its version.'), 409: problem('A webhook with this id exists.') },
  }),
  scaffoldWebhook: route('webhooks:read', {
    method: 'post', path: `${WEBHOOKS}/scaffold`, operationId: 'scaffoldWebhook', tags: ['webhooks'], summary: "A webhook draft from the receiver's example (JSON, XML/SOAP, form, CSV or curl): its values replaced by the event's best-matching variables; nothing is written.",
    request: { params: s.AccountParams, body: body(s.ScaffoldRequest, true) },
    responses: { 200: json(s.Scaffold, 'The draft, what was mapped, what stayed literal, and its validation.') },
  }),
  previewDraft: route('webhooks:read', {
    method: 'post', path: `${WEBHOOKS}/preview`, operationId: 'previewDraft', tags: ['webhooks'], summary: "An unsaved webhook draft: the dispatcher's checks of it (errors and warnings with line and column) and the exact request it makes for a catalogue sample, supplied data or a past event of the account (eventId: needs deliveries:read too), with the filter's verdict; nothing is written or sent.",
    request: { params: s.AccountParams, body: body(s.DraftPreviewRequest, true) },
    responses: { 200: json(s.DraftPreview, 'The findings, and the request when the draft renders.') },
  }),
  getWebhook: route('webhooks:read', {
    method: 'get', path: WEBHOOK, operationId: 'getWebhook', tags: ['webhooks'], summary: 'One webhook; ETag is its version (Firestore update time).',
    request: { params: s.WebhookParams },
    responses: { 200: json(s.Webhook, 'The webhook.') },
  }),
  replaceWebhook: route('webhooks:write', {
    method: 'put', path: WEBHOOK, operationId: 'replaceWebhook', tags: ['webhooks'], summary: 'Replaces the configuration (If-Match required), validated like the dispatcher.',
    request: { params: s.WebhookParams, headers: ifMatch(true), body: body(s.WebhookInput, true) },
    responses: { 200: json(s.Webhook, 'Replaced.'), 412: problem('Changed since the ETag was read.'), 428: problem('No If-Match.') },
  }),
  patchWebhook: route('webhooks:write', {
    method: 'patch', path: WEBHOOK, operationId: 'patchWebhook', tags: ['webhooks'], summary: 'A JSON merge patch of the configuration (If-Match required); null puts a field back to its default.',
    request: { params: s.WebhookParams, headers: ifMatch(true), body: body(s.WebhookPatch, true, ['application/merge-patch+json', 'application/json']) },
    responses: { 200: json(s.Webhook, 'Patched.'), 412: problem('Changed since the ETag was read.'), 428: problem('No If-Match.') },
  }),
  deleteWebhook: route('webhooks:write', {
    method: 'delete', path: WEBHOOK, operationId: 'deleteWebhook', tags: ['webhooks'], summary: 'Deletes the webhook document (its delivery log expires by its TTL).',
    request: { params: s.WebhookParams, headers: ifMatch(false) },
    responses: { 204: { description: 'Deleted.' }, 412: problem('Changed since the ETag was read.') },
  }),
  enableWebhook: route('webhooks:write', {
    method: 'post', path: `${WEBHOOK}/enable`, operationId: 'enableWebhook', tags: ['webhooks'], summary: 'enabled: true (the auto-disable record removed, the failure count back to 0).',
    request: { params: s.WebhookParams, headers: ifMatch(false) },
    responses: { 200: json(s.Webhook, 'Enabled.'), 412: problem('Changed since the ETag was read.') },
  }),
  disableWebhook: route('webhooks:write', {
    method: 'post', path: `${WEBHOOK}/disable`, operationId: 'disableWebhook', tags: ['webhooks'], summary: 'enabled: false: the dispatcher stops delivering to it.',
    request: { params: s.WebhookParams, headers: ifMatch(false) },
    responses: { 200: json(s.Webhook, 'Disabled.'), 412: problem('Changed since the ETag was read.') },
  }),
  previewWebhook: route('webhooks:read', {
    method: 'post', path: `${WEBHOOK}/preview`, operationId: 'previewWebhook', tags: ['webhooks'], summary: 'The exact request the webhook makes for a catalogue sample, supplied data or a past event (eventId: needs deliveries:read too); nothing is sent.',
    request: { params: s.WebhookParams, body: body(s.PreviewRequest, false) },
    responses: { 200: json(s.Preview, 'The request.') },
  }),
  testWebhook: creating('webhooks:write', {
    method: 'post', path: `${WEBHOOK}/test`, operationId: 'testWebhook', tags: ['webhooks'], summary: 'Sends one test event (id evt_test_…) now; recorded in the delivery log like any delivery.',
    request: { params: s.WebhookParams, body: body(s.TestRequest, false) },
    responses: { 201: json(s.Delivery, 'The test delivery after its first attempt.'), 409: problem('The webhook is disabled.') },
  }),
  setSigningSecret: route('webhooks:write', {
    method: 'put', path: `${WEBHOOK}/signing-secret`, operationId: 'setSigningSecret', tags: ['webhooks'], summary: 'Sets or rotates the Standard Webhooks signing secret (write-only) and points the webhook at it.',
    request: { params: s.WebhookParams, body: body(s.SigningSecretRequest, true) },
    responses: { 200: json(s.SigningSecretResult, 'Stored; the secret is never returned.') },
  }),
  listDeliveries: route('deliveries:read', {
    method: 'get', path: '/v1/accounts/{accountId}/deliveries', operationId: 'listDeliveries', tags: ['deliveries'], summary: "The account's delivery log, newest first, filtered.",
    request: { params: s.AccountParams, query: s.DeliveriesQuery },
    responses: { 200: json(s.DeliveryList, 'A page of deliveries.') },
  }),
  getDelivery: route('deliveries:read', {
    method: 'get', path: `${WEBHOOK}/deliveries/{eventId}`, operationId: 'getDelivery', tags: ['deliveries'], summary: 'One delivery with all its attempts.',
    request: { params: s.DeliveryParams },
    responses: { 200: json(s.Delivery, 'The delivery.') },
  }),
  replayDelivery: creating('deliveries:replay', {
    method: 'post', path: `${WEBHOOK}/deliveries/{eventId}/replay`, operationId: 'replayDelivery', tags: ['deliveries'], summary: 'Starts a new attempt series through Cloud Tasks (like hookshape replay).',
    request: { params: s.DeliveryParams },
    responses: { 202: json(s.Delivery, 'Replay started: retrying, its attempt enqueued.'), 409: problem('Being delivered now, or the webhook is disabled or invalid.') },
  }, ['deliveries:read']), // the answer is the delivery: what deliveries:read shows
  createRecoverJob: creating('deliveries:replay', {
    method: 'post', path: '/v1/accounts/{accountId}/recover-jobs', operationId: 'createRecoverJob', tags: ['deliveries'], summary: 'Replays every matching delivery (e.g. all failed since T) through Cloud Tasks; poll the job.',
    request: { params: s.AccountParams, body: body(s.RecoverRequest, true) },
    responses: { 201: json(s.RecoverJobView, 'The job, its replays enqueued.') },
  }),
  getRecoverJob: route('deliveries:read', {
    method: 'get', path: '/v1/accounts/{accountId}/recover-jobs/{jobId}', operationId: 'getRecoverJob', tags: ['deliveries'], summary: 'A recover job and where its deliveries are now.',
    request: { params: s.JobParams },
    responses: { 200: json(s.RecoverJobView, 'The job.') },
  }),
  listEventTypes: route('webhooks:read', {
    method: 'get', path: '/v1/accounts/{accountId}/event-types', operationId: 'listEventTypes', tags: ['event-types'], summary: 'The event catalogue: descriptions, variables, samples.',
    request: { params: s.AccountParams },
    responses: { 200: json(s.EventTypeList, 'Every event type.') },
  }),
  createPortalSession: route('portal-sessions:create', {
    method: 'post', path: '/v1/accounts/{accountId}/portal-sessions', operationId: 'createPortalSession', tags: ['portal'], summary: 'Mints a customer token for this account (platform API keys only).',
    request: { params: s.AccountParams, body: body(s.PortalSessionRequest, false) },
    responses: { 201: json(s.PortalSession, 'The token (at most an hour), and the portal URL carrying it.') },
  }),
} satisfies Record<string, ApiRoute>;
