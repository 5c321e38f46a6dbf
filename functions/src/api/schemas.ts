/**
 * The management API's schemas. The webhook body is the very schema that validates Firestore webhook
 * documents (webhooks/webhook-config.ts), made strict: a field the document does not have is refused
 * here, where the console only warns. The OpenAPI document is generated from these.
 */
import { z } from '@hono/zod-openapi';
import { DeliveryStatus } from '../delivery/delivery-record.ts';
import { EVENT_TYPES } from '../events/event-catalogue.ts';
import { ExampleFormat } from '../scaffold/scaffold-webhook.ts';
import { webhookSchema } from '../webhooks/webhook-config.ts';
import { WEBHOOK_ID } from '../webhooks/webhook-store.ts';
import { CUSTOMER_SCOPES, MAX_TOKEN_SECONDS } from './customer-tokens.ts';

export const DOCUMENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
const DOCUMENT_ID_MESSAGE = 'must be 1-200 letters, digits, or _ . : - (it names a Firestore document)';
/** Ids written in the console may hold any character but `/`; Firestore reserves `.`, `..` and `__x__`. */
const STORED_ID = WEBHOOK_ID;

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
/** Delivery records can be large (attempt bodies): fewer per page. */
export const MAX_DELIVERY_PAGE_SIZE = 50;
export const MAX_NAME_CHARS = 200;
/** A signing secret rotation's overlap (PUT …/signing-secret keepPreviousSeconds): 24 hours by default, as Svix keeps it; at most 7 days. */
export const DEFAULT_KEEP_PREVIOUS_SECONDS = 86_400;
export const MAX_KEEP_PREVIOUS_SECONDS = 7 * 86_400;

const documentId = (description: string) => z.string().regex(DOCUMENT_ID, DOCUMENT_ID_MESSAGE).openapi({ description });

export const AccountParams = z.object({
  accountId: documentId('The account (as in the events its platform publishes).').openapi({ param: { name: 'accountId', in: 'path' }, example: 'acc_demo' }),
});
export const WebhookParams = AccountParams.extend({
  webhookId: z.string().regex(STORED_ID, 'is not a webhook id').openapi({ param: { name: 'webhookId', in: 'path' }, example: 'wh_crm' }),
});
export const DeliveryParams = WebhookParams.extend({
  eventId: documentId('The event, whose id names its delivery record.').openapi({ param: { name: 'eventId', in: 'path' }, example: 'evt_01JD' }),
});
export const JobParams = AccountParams.extend({
  jobId: z.string().regex(/^job_[A-Za-z0-9_-]{1,64}$/, 'is not a recover job id').openapi({ param: { name: 'jobId', in: 'path' } }),
});

const pageSize = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .optional()
    .openapi({ description: `Page size, 1-${max} (default ${DEFAULT_PAGE_SIZE}).` });
const cursor = z.string().max(2048, 'is not a cursor of this API').optional().openapi({ description: 'nextCursor of the previous page.' });

export const PageQuery = z.object({ cursor, limit: pageSize(MAX_PAGE_SIZE) }).strict();

const isoDate = (description: string) => z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-11-23T10:15:00Z' }).openapi({ description });
const eventType = z.enum(EVENT_TYPES, { error: (issue) => `'${String(issue.input)}' is not an event type of the catalogue` });
const deliveryStatus = z.enum(DeliveryStatus, { error: `must be one of ${DeliveryStatus.join(', ')}` });

export const DeliveriesQuery = z
  .object({
    webhookId: z.string().regex(STORED_ID, 'is not a webhook id').optional(),
    status: deliveryStatus.optional(),
    eventType: eventType.optional(),
    since: isoDate('Created at or after.').optional(),
    until: isoDate('Created before.').optional(),
    cursor,
    limit: pageSize(MAX_DELIVERY_PAGE_SIZE),
  })
  .strict();

/** The webhook document's schema, strict, with a bounded name. */
export const WebhookInput = webhookSchema
  .extend({ name: webhookSchema.shape.name.max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`) })
  .strict()
  .openapi('WebhookInput', { description: 'The fields of a webhook document (see docs/webhooks.md).' });

export const WebhookCreate = WebhookInput.extend({
  id: z.string().regex(DOCUMENT_ID, DOCUMENT_ID_MESSAGE).optional().openapi({ description: 'The document id; generated (wh_…) when left out. A taken id is a 409.' }),
})
  .strict()
  .openapi('WebhookCreate');

type Shape = typeof WebhookInput.shape;
const withoutDefault = (schema: z.ZodType): z.ZodType => (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional ? withoutDefault(schema.unwrap() as z.ZodType) : schema);

/** A JSON merge patch (RFC 7396) of the configuration: a field set to null goes back to its default. */
export const WebhookPatch = z
  .object(Object.fromEntries(Object.entries(WebhookInput.shape).map(([key, schema]) => [key, withoutDefault(schema as z.ZodType).nullable().optional()])) as { [K in keyof Shape]: z.ZodOptional<z.ZodNullable<z.ZodType>> })
  .strict()
  .openapi('WebhookPatch');

const ValidationIssue = z.object({ field: z.string(), line: z.number().nullable(), column: z.number().nullable(), message: z.string(), eventType: z.string().nullable() });
export const Validation = z
  .object({ ok: z.boolean(), errors: z.array(ValidationIssue), warnings: z.array(ValidationIssue), checkedAt: z.string(), configHash: z.string() })
  .openapi('Validation', { description: 'What the checks of the dispatcher found (the same checks as validateWebhook).' });

const PreviousSigningSecretView = z
  .object({ name: z.string(), until: z.string() })
  .openapi('PreviousSigningSecret', { description: "A rotation's overlap: until `until`, requests carry a second signature, made with the secret `name` (the one replaced)." });

export const Webhook = webhookSchema
  .extend({
    id: z.string(),
    validation: Validation.optional(),
    health: z.object({ consecutiveFailures: z.number().optional(), lastFailureAt: z.string().optional() }).optional(),
    disabled: z.object({ reason: z.string().nullable(), at: z.string().nullable(), consecutiveFailures: z.number().nullable() }).optional(),
    previousSigningSecret: PreviousSigningSecretView.optional(),
    signingSecretSetAt: z.string().optional().openapi({ description: 'When PUT …/signing-secret last stored a value: functions that read the secrets before then read them again.' }),
  })
  .openapi('Webhook', { description: "The Firestore document's fields plus its id." });

export const WebhookList = z.object({ data: z.array(Webhook), nextCursor: z.string().nullable() }).openapi('WebhookList');

export const PreviewRequest = z
  .object({
    eventType: eventType.optional().openapi({ description: "Default: the webhook's first event type." }),
    data: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }).optional().openapi({ description: "The event's data; default: the catalogue's sample." }),
    eventId: documentId('A past event of this account, rendered as it was delivered. Needs the scope deliveries:read as well (403 without it).').optional(),
    target: z.enum(['primary', 'backup'], { error: 'must be primary or backup' }).optional(),
  })
  .strict()
  .openapi('PreviewRequest');

export const Preview = z
  .object({
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string().nullable(),
    timeoutSeconds: z.number(),
    target: z.enum(['primary', 'backup']),
    event: z.object({ id: z.string(), type: z.string(), accountId: z.string(), occurredAt: z.string(), source: z.enum(['sample', 'data', 'event']) }),
    secrets: z.array(z.string()).openapi({ description: 'Secrets the templates read, rendered as placeholder-NAME: secret values are never shown.' }),
    filter: z
      .object({ pass: z.boolean(), reason: z.string(), at: z.string().optional() })
      .openapi({ description: "Whether the dispatcher would deliver this event at all (the webhook's filter), and why not: `at` is the condition that failed. The request is rendered either way." }),
  })
  .openapi('Preview');

export const DraftPreviewRequest = z
  .object({
    webhook: z.record(z.string(), z.unknown(), { error: 'must be a webhook document (a JSON object: name, events, url...)' }).openapi({
      description: 'The webhook as it would be saved (the fields of WebhookInput). It need not be valid: what the checks find is in the answer\'s validation.',
    }),
    webhookId: z.string().regex(STORED_ID, 'is not a webhook id').optional().openapi({ description: 'The webhook this draft edits, if any: templates see it as webhook.id, and its record of eventId is read first.' }),
    eventType: PreviewRequest.shape.eventType.openapi({ description: "Default: the draft's first event type." }),
    data: PreviewRequest.shape.data,
    eventId: PreviewRequest.shape.eventId,
    target: PreviewRequest.shape.target,
  })
  .strict()
  .openapi('DraftPreviewRequest');

export const DraftPreview = z
  .object({
    preview: Preview.nullable().openapi({ description: 'The request, as the saved webhook\'s preview gives it; null when the draft does not parse or does not render for this event.' }),
    renderError: z
      .object({ field: z.string(), line: z.number().nullable(), column: z.number().nullable(), message: z.string() })
      .nullable()
      .openapi({ description: 'Why the draft does not render for this event (the field of the draft, with line and column in its template).' }),
    validation: z.object({ ok: z.boolean(), errors: z.array(ValidationIssue), warnings: z.array(ValidationIssue) }).openapi({ description: 'The dispatcher\'s checks of the draft, as a save runs them (errors refuse a save).' }),
  })
  .openapi('DraftPreview');

export const TestRequest = z.object({ eventType: PreviewRequest.shape.eventType, data: PreviewRequest.shape.data }).strict().openapi('TestRequest');

export const SigningSecretRequest = z
  .object({
    secret: z.string({ error: 'must be a text' }).max(200, 'is too long for a signing secret').openapi({ description: 'whsec_ + base64 of 24-64 random bytes. Write-only: never returned.' }),
    name: webhookSchema.shape.signingSecretName.unwrap().optional().openapi({ description: "The account secret's name; default: the webhook's signingSecretName, else SIGNING_<hash of the webhook id>." }),
    keepPreviousSeconds: z
      .number({ error: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .min(0, 'must be at least 0')
      .max(MAX_KEEP_PREVIOUS_SECONDS, `must be at most ${MAX_KEEP_PREVIOUS_SECONDS} (7 days)`)
      .optional()
      .openapi({
        description: `A rotation (the webhook already had a signing secret): how long requests are signed with the previous secret too, so receivers can switch without rejecting any (default ${DEFAULT_KEEP_PREVIOUS_SECONDS}: 24 hours; 0 ends the previous secret now, e.g. after a leak).`,
      }),
  })
  .strict()
  .openapi('SigningSecretRequest');

export const SigningSecretResult = z
  .object({ name: z.string(), previous: PreviousSigningSecretView.nullable(), webhook: Webhook })
  .openapi('SigningSecretResult');

export const Delivery = z
  .object({ webhookId: z.string(), eventId: z.string(), accountId: z.string(), eventType: z.string(), status: deliveryStatus, attempts: z.array(z.unknown()), lastError: z.string().nullable(), createdAt: z.string() })
  .catchall(z.unknown())
  .openapi('Delivery', { description: "The delivery record's fields (see docs/deliveries.md)." });
export const DeliveryList = z.object({ data: z.array(Delivery), nextCursor: z.string().nullable() }).openapi('DeliveryList');

export const RecoverRequest = z
  .object({
    since: isoDate('Deliveries created at or after this.'),
    until: isoDate('And before this.').optional(),
    status: z.enum(['failed', 'invalid'], { error: 'must be failed or invalid' }).optional().openapi({ description: 'Default: failed.' }),
    webhookId: z.string().regex(STORED_ID, 'is not a webhook id').optional(),
    eventType: eventType.optional(),
    limit: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional().openapi({ description: 'At most this many, newest first (default 100).' }),
  })
  .strict()
  .openapi('RecoverRequest');

export const RecoverJobView = z
  .object({
    id: z.string(),
    state: z.enum(['running', 'done', 'interrupted']),
    filter: z.object({ status: z.string(), since: z.string(), until: z.string().nullable(), webhookId: z.string().nullable(), eventType: z.string().nullable(), limit: z.number() }),
    createdAt: z.string(),
    updatedAt: z.string(),
    createdBy: z.string(),
    matched: z.number(),
    replayed: z.number(),
    skipped: z.array(z.object({ webhookId: z.string(), eventId: z.string(), reason: z.string() })),
    truncated: z.boolean(),
    error: z.string().nullable(),
    progress: z.object({ byStatus: z.record(z.string(), z.number()), finished: z.boolean() }).openapi({ description: 'The replayed deliveries now, read from their records.' }),
  })
  .openapi('RecoverJob');

export const EventTypeList = z
  .object({
    data: z.array(z.object({ type: z.string(), description: z.string(), seedName: z.string(), variables: z.array(z.object({ path: z.string(), type: z.string(), description: z.string() })), sample: z.record(z.string(), z.unknown()) })),
    envelope: z.array(z.object({ path: z.string(), type: z.string(), description: z.string() })),
    nextCursor: z.null(),
  })
  .openapi('EventTypeList');

export const MAX_EXAMPLE_CHARS = 64 * 1024;

export const ScaffoldRequest = z
  .object({
    eventType: eventType.openapi({ description: 'The event type whose variables fill the example.' }),
    example: z.string({ error: 'must be a text: the request the receiver expects' }).min(1, 'must not be empty').max(MAX_EXAMPLE_CHARS, `must be at most ${MAX_EXAMPLE_CHARS} characters`).openapi({
      description: "The receiver's documented request: a JSON, XML (SOAP too), form-urlencoded or CSV body, or a whole curl command (method, URL with its query, headers and body are read from it).",
      example: `curl -X POST https://crm.example.com/leads -H 'Content-Type: application/json' -d '{"email": "jane@example.com", "first_name": "Jane"}'`,
    }),
    format: z.enum(ExampleFormat, { error: `must be one of ${ExampleFormat.join(', ')}` }).optional().openapi({ description: "Default: detected (a curl command; else the body's content)." }),
  })
  .strict()
  .openapi('ScaffoldRequest');

const ScaffoldLocation = z.enum(['body', 'query', 'headers', 'url']);
export const Scaffold = z
  .object({
    draft: WebhookInput.partial().extend({ name: z.string(), events: z.array(z.string()), method: z.string(), url: z.string(), query: z.record(z.string(), z.string()), headers: z.record(z.string(), z.string()), format: z.string() }).openapi({ description: 'A body for createWebhook.' }),
    exampleFormat: z.enum(ExampleFormat),
    mapped: z.array(z.object({ path: z.string(), location: ScaffoldLocation, value: z.string(), variable: z.string(), template: z.string(), score: z.number() })).openapi({ description: 'Fields whose value became a variable.' }),
    unmatched: z
      .array(z.object({ path: z.string(), location: ScaffoldLocation, value: z.string(), line: z.number(), column: z.number(), reason: z.string() }))
      .openapi({ description: "Fields kept as the example's literal values, with their line and column in the draft's template of that location (body) to highlight them." }),
    secrets: z.array(z.string()).openapi({ description: "Account secrets the draft reads in place of the example's credentials: set them before the first delivery." }),
    validation: z.object({ ok: z.boolean(), errors: z.array(ValidationIssue), warnings: z.array(ValidationIssue) }).openapi({ description: 'The dispatcher\'s checks of the draft.' }),
  })
  .openapi('Scaffold');

export const PortalSessionRequest = z
  .object({
    scopes: z.array(z.enum(CUSTOMER_SCOPES, { error: `must be among ${CUSTOMER_SCOPES.join(', ')}` })).min(1, 'must name at least one scope').max(CUSTOMER_SCOPES.length).optional().openapi({ description: 'Default: all four.' }),
    expiresInSeconds: z.number({ error: 'must be a number' }).int('must be a whole number').min(60, 'must be at least 60').max(MAX_TOKEN_SECONDS, `must be at most ${MAX_TOKEN_SECONDS}`).optional().openapi({ description: `Default and maximum ${MAX_TOKEN_SECONDS}.` }),
    subject: z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'must be 1-200 letters, digits, or _ . : @ -').optional().openapi({ description: 'Who the token is for (the audit trail names them); default: portal.' }),
  })
  .strict()
  .openapi('PortalSessionRequest');

export const PortalSession = z.object({ token: z.string(), url: z.string(), expiresAt: z.string(), scopes: z.array(z.string()) }).openapi('PortalSession');

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    code: z.string(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), pointer: z.string(), message: z.string() })).optional(),
    requestId: z.string().optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details; `code` is stable, `errors` name the fields at fault.' });
