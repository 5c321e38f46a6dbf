import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../events/event-catalogue.ts';
import { describeFieldIssues, fieldIssues, type FieldIssue } from './describe-issues.ts';
import { parseFilter, type EventFilter } from './event-filter.ts';
import type { StatusRange } from '../send/classify-outcome.ts';

export const HttpMethod = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;
export type HttpMethod = (typeof HttpMethod)[number];

export const BodyFormat = ['json', 'xml', 'text', 'csv', 'yaml', 'form'] as const;
export type BodyFormat = (typeof BodyFormat)[number];

export const RetrySchedule = ['incremental', 'exponential', 'explicit'] as const;
export type RetrySchedule = (typeof RetrySchedule)[number];

/** Retries per target a webhook may ask for. */
export const MAX_RETRY_ATTEMPTS = 10;

/**
 * A webhook's own retry policy (`retry`), as written: only the fields it sets. delivery/retry-policy.ts
 * puts it over the deployment's defaults and turns it into waits.
 */
export interface WebhookRetry {
  /** Retries of each target after its first attempt, 0–10 (the seed: 3). */
  attempts?: number;
  schedule?: RetrySchedule;
  /** incremental: n × this; exponential: this × 2^(n-1) (RETRY_BASE_DELAY_SECONDS unless set). */
  baseDelaySeconds?: number;
  /** The longest wait between two attempts (exponential: 6 h unless set). */
  maxDelaySeconds?: number;
  /** explicit: the wait before each retry. */
  delaysSeconds?: number[];
  /** The answers that are retried (the seed: 429 and 5xx). */
  retryOn?: StatusRange[];
  /** The longest a Retry-After is honoured (RETRY_AFTER_CAP_SECONDS unless set). */
  retryAfterCapSeconds?: number;
}

export const AuthType = ['basic', 'bearer', 'header', 'oauth2'] as const;
export type AuthType = (typeof AuthType)[number];

/**
 * How requests authenticate to the receiver (`auth`). Every credential is an account secret named
 * here (`…SecretName`), never its value: the document holds no credential.
 */
export type WebhookAuth =
  | { type: 'basic'; username: string; passwordSecretName: string }
  | { type: 'bearer'; tokenSecretName: string }
  | { type: 'header'; name: string; valueSecretName: string }
  /** OAuth 2 client credentials: a token from `tokenUrl`, cached and sent as `Authorization: Bearer`. */
  | { type: 'oauth2'; tokenUrl: string; clientId: string; clientSecretName: string; scope?: string; audience?: string };

/**
 * A webhook's rate limit (`rateLimit`): at most `perSecond` requests a second and/or `maxInFlight` at
 * once, across every instance. Enforced by a Cloud Tasks queue of the webhook's own
 * (tasks/rate-limited-queue.ts), whose limits Cloud Tasks caps at 500/s and 5,000 concurrent.
 */
export interface WebhookRateLimit {
  perSecond?: number;
  maxInFlight?: number;
}

/** Cloud Tasks' own caps on max_dispatches_per_second and max_concurrent_dispatches. */
export const MAX_RATE_PER_SECOND = 500;
export const MAX_IN_FLIGHT = 5000;

export const MAX_TIMEOUT_SECONDS = 30;
export const DEFAULT_TIMEOUT_SECONDS = 10;

/**
 * One webhook, as stored at accounts/{accountId}/webhooks/{webhookId}. Flat so that it is easy to edit
 * in the Firestore console; fields hookshape writes back (validation, disabled reasons) are ignored here.
 */
export interface WebhookConfig {
  id: string;
  accountId: string;
  name: string;
  enabled: boolean;
  events: EventType[];
  method: HttpMethod;
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  format: BodyFormat;
  body: string | undefined;
  backupUrl: string | undefined;
  timeoutSeconds: number;
  /** Name of the account secret holding the Standard Webhooks signing key; unset: unsigned. */
  signingSecretName: string | undefined;
  /**
   * A rotation's overlap (PUT …/signing-secret writes it): until `until`, requests are signed with this
   * secret too, so receivers still on the previous secret accept them. Not configuration: hookshape's.
   */
  previousSigningSecret?: PreviousSigningSecret;
  /**
   * When PUT …/signing-secret last stored a value (after storing it): an instance whose copy of the
   * account's secrets was read before then reads them again, so a new value under a name it already
   * holds (a rotation under the same name, `<NAME>_PREVIOUS`) does not wait for its cache. Hookshape's.
   */
  signingSecretSetAt?: Date;
  /** Which events of its types the webhook wants (event-filter.ts); absent: all of them. */
  filter?: EventFilter;
  /** Its own retry policy; absent: the deployment's (the seed's). */
  retry?: WebhookRetry;
  /** How it authenticates to the receiver; absent: only what its own headers carry. */
  auth?: WebhookAuth;
  /** At most this many requests a second / in flight; absent: as fast as events come. */
  rateLimit?: WebhookRateLimit;
  /** Send each attempt's W3C `traceparent` header (the delivery's trace, a span per attempt); absent: false. */
  traceparent?: boolean;
}

const template = (what: string) => z.string({ error: `must be a text ${what}` });

const THIRTY_DAYS = 30 * 86_400;
const delay = (what: string) => z.number({ error: `must be a number of seconds${what}` }).min(0, 'must not be negative').max(THIRTY_DAYS, `must be at most ${THIRTY_DAYS} (30 days, the longest Cloud Tasks waits)`);

/** 408, "5xx", "500-504" → [from, to]; statuses from 400 to 599. */
const statusRange = z.union([z.number(), z.string()]).transform((value, context): StatusRange => {
  const text = String(value).trim().toLowerCase();
  const klass = /^([45])xx$/.exec(text);
  const range = /^(\d{3})\s*-\s*(\d{3})$/.exec(text);
  const [from, to] = klass ? [Number(klass[1]) * 100, Number(klass[1]) * 100 + 99] : range ? [Number(range[1]), Number(range[2])] : /^\d{3}$/.test(text) ? [Number(text), Number(text)] : [NaN, NaN];
  if (!(from >= 400 && to <= 599 && from <= to)) {
    context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a status to retry: write a status from 400 to 599 (408), a class ("5xx") or a range ("500-504")` });
    return z.NEVER;
  }
  return [from, to];
});

const retrySchema = z
  .strictObject(
    {
      attempts: z.number({ error: 'must be a number of retries' }).int('must be a whole number').min(0, 'must be 0 or more').max(MAX_RETRY_ATTEMPTS, `must be at most ${MAX_RETRY_ATTEMPTS}`).optional(),
      schedule: z.enum(RetrySchedule, { error: `must be one of ${RetrySchedule.join(', ')}` }).optional(),
      baseDelaySeconds: delay('').positive('must be more than 0').optional(),
      maxDelaySeconds: delay('').positive('must be more than 0').optional(),
      delaysSeconds: z.array(delay(' (each wait)'), { error: 'must be an array of seconds, e.g. [10, 60, 300]' }).min(1, 'must hold at least one wait').max(MAX_RETRY_ATTEMPTS, `must hold at most ${MAX_RETRY_ATTEMPTS} waits`).optional(),
      retryOn: z.array(statusRange, { error: 'must be an array of statuses, e.g. [408, 429, "5xx"]' }).optional(),
      retryAfterCapSeconds: delay('').optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: not a retry setting (they are attempts, schedule, baseDelaySeconds, maxDelaySeconds, delaysSeconds, retryOn, retryAfterCapSeconds)` : 'must be a map, e.g. {"attempts": 6, "schedule": "exponential"}') },
  )
  .superRefine((value, context) => {
    const schedule = value.schedule ?? (value.delaysSeconds ? 'explicit' : 'incremental');
    if (schedule === 'explicit' && !value.delaysSeconds) context.addIssue({ code: 'custom', path: ['delaysSeconds'], message: 'is required for schedule explicit: the wait before each retry, e.g. [10, 60, 300]' });
    if (schedule !== 'explicit' && value.delaysSeconds) context.addIssue({ code: 'custom', path: ['delaysSeconds'], message: `is only read by schedule explicit (the schedule is ${schedule})` });
  })
  .transform((value): WebhookRetry => {
    const schedule = value.schedule ?? (value.delaysSeconds ? 'explicit' : undefined);
    // Only the fields written: the rest stays the deployment's default.
    return Object.fromEntries(Object.entries({ ...value, schedule }).filter(([, item]) => item !== undefined)) as WebhookRetry;
  });

const limit = (what: string, max: number) =>
  z.number({ error: `must be a whole number of ${what}` }).int('must be a whole number').positive('must be 1 or more').max(max, `must be at most ${max} (the most Cloud Tasks allows)`).optional();

const rateLimitSchema = z
  .strictObject(
    { perSecond: limit('requests a second', MAX_RATE_PER_SECOND), maxInFlight: limit('requests at once', MAX_IN_FLIGHT) },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: not a rate limit setting (they are perSecond, maxInFlight)` : 'must be a map, e.g. {"perSecond": 5}') },
  )
  .refine((value) => value.perSecond !== undefined || value.maxInFlight !== undefined, 'must set perSecond, maxInFlight or both, e.g. {"perSecond": 5}')
  .transform((value): WebhookRateLimit => ({ ...(value.perSecond === undefined ? {} : { perSecond: value.perSecond }), ...(value.maxInFlight === undefined ? {} : { maxInFlight: value.maxInFlight }) }));

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const secretName = (example: string) =>
  z.string({ error: `must be the name of a secret, e.g. ${example}` }).regex(SECRET_NAME, `must be the name of a secret (letters, digits, _), e.g. ${example}, not the secret itself`);
const plainText = (what: string) => z.string({ error: `must be a text (${what})` }).min(1, 'must not be empty').max(1024, 'must be at most 1024 characters');
const authFields = (type: AuthType, fields: string) => ({
  error: (issue: { code: string; keys?: string[] }) => (issue.code === 'unrecognized_keys' ? `${issue.keys?.join(', ')}: not a field of auth type ${type} (its fields: ${fields})` : 'must be a map'),
});

const authSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject(
      { type: z.literal('basic'), username: plainText('the user name; not a secret').refine((value) => !value.includes(':'), 'must not contain ":" (Basic authentication separates the user name from the password with it)'), passwordSecretName: secretName('CRM_PASSWORD') },
      authFields('basic', 'type, username, passwordSecretName'),
    ),
    z.strictObject({ type: z.literal('bearer'), tokenSecretName: secretName('CRM_TOKEN') }, authFields('bearer', 'type, tokenSecretName')),
    z.strictObject({ type: z.literal('header'), name: plainText('the header name, e.g. X-Api-Key'), valueSecretName: secretName('CRM_API_KEY') }, authFields('header', 'type, name, valueSecretName')),
    z.strictObject(
      {
        type: z.literal('oauth2'),
        tokenUrl: z
          .string({ error: 'must be the URL of the token endpoint, e.g. https://auth.example.com/oauth/token' })
          .refine((value) => !/\{\{|\{%/.test(value), 'must be literal text (no template): the token endpoint is the same for every event')
          .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an absolute https URL, e.g. https://auth.example.com/oauth/token'),
        clientId: plainText('the client id; not a secret'),
        clientSecretName: secretName('CRM_CLIENT_SECRET'),
        scope: plainText('space-separated scopes').optional(),
        audience: plainText('the API the token is for').optional(),
      },
      authFields('oauth2', 'type, tokenUrl, clientId, clientSecretName, scope, audience'),
    ),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${AuthType.join(', ')}` : 'must be a map, e.g. {"type": "bearer", "tokenSecretName": "CRM_TOKEN"}') },
);

export interface PreviousSigningSecret {
  name: string;
  until: Date;
}

/** A Firestore Timestamp (the dispatcher reads documents as stored), a Date, or an ISO text typed in the console. */
const asDate = (value: unknown): unknown => {
  if (value && typeof value === 'object' && typeof (value as { toDate?: unknown }).toDate === 'function') return (value as { toDate: () => Date }).toDate();
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return new Date(value);
  return value;
};

/** The document's `signingSecretSetAt` when a time; anything else (a console edit gone wrong) is none. */
const signingSecretSetAtSchema = z.preprocess(asDate, z.date());

/** The document's `previousSigningSecret` when well-formed; anything else (a console edit gone wrong) is no overlap. */
const previousSigningSecretSchema = z.object({ name: z.string().regex(SECRET_NAME), until: z.preprocess(asDate, z.date()) });

export const webhookSchema = z.object({
  name: z.string({ error: 'must be a text' }).min(1, 'must not be empty'),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  events: z
    .array(z.enum(EVENT_TYPES, { error: (issue) => `'${String(issue.input)}' is not an event type of the catalogue` }), {
      error: 'must be an array of event types, e.g. ["call.created"]',
    })
    .min(1, 'must name at least one event type'),
  // Console users type "post" as often as "POST".
  method: z
    .string({ error: 'must be a text' })
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(HttpMethod, { error: `must be one of ${HttpMethod.join(', ')}` }))
    .default('POST'),
  url: template('template').min(1, 'must not be empty'),
  query: z.record(z.string(), template('template'), { error: 'must be a map of name → template' }).default({}),
  headers: z.record(z.string(), template('template'), { error: 'must be a map of name → template' }).default({}),
  format: z
    .string({ error: 'must be a text' })
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(BodyFormat, { error: `must be one of ${BodyFormat.join(', ')}` }))
    .default('json'),
  body: template('template').optional(),
  backupUrl: template('template').optional(),
  timeoutSeconds: z
    .number({ error: 'must be a number of seconds' })
    .positive('must be more than 0')
    .max(MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS}`)
    .default(DEFAULT_TIMEOUT_SECONDS),
  signingSecretName: secretName('SIGNING_SECRET').optional(),
  retry: retrySchema.optional(),
  auth: authSchema.optional(),
  rateLimit: rateLimitSchema.optional(),
  traceparent: z.boolean({ error: 'must be true or false' }).optional(),
  filter: z.unknown().optional().transform((value, context) => {
    if (value === undefined) return undefined;
    const parsed = parseFilter(value);
    if (parsed.ok) return parsed.filter;
    for (const { path, message } of parsed.issues) context.addIssue({ code: 'custom', message, path });
    return z.NEVER;
  }),
});

/** The fields a webhook document configures (the schema's own keys). */
export const WEBHOOK_FIELDS: readonly string[] = Object.keys(webhookSchema.shape);

export type ParsedWebhook = { ok: true; webhook: WebhookConfig } | { ok: false; reason: string; issues: FieldIssue[] };

const refused = (id: string, issues: FieldIssue[]): ParsedWebhook => ({ ok: false, reason: `webhook ${id}: ${describeFieldIssues(issues)}`, issues });

/** The fields of `auth` that name an account secret, whichever its type. */
const AUTH_SECRET_FIELDS = ['passwordSecretName', 'tokenSecretName', 'valueSecretName', 'clientSecretName'] as const;

/**
 * The account secrets a webhook names in its fields (not in its templates): signing, previous signing,
 * auth. Of a parsed webhook, or of a document as stored (one that may not parse: read defensively).
 */
export function secretNamesOf(webhook: WebhookConfig | Record<string, unknown>): string[] {
  const fields = webhook as { signingSecretName?: unknown; previousSigningSecret?: { name?: unknown } | null; auth?: Record<string, unknown> | null };
  return [fields.signingSecretName, fields.previousSigningSecret?.name, ...AUTH_SECRET_FIELDS.map((field) => fields.auth?.[field])].filter((name): name is string => typeof name === 'string');
}

/** The latest time any of `webhooks` had a signing secret stored (signingSecretSetAt), if any. */
export function secretsChangedAt(webhooks: readonly WebhookConfig[]): Date | undefined {
  let latest: Date | undefined;
  for (const { signingSecretSetAt } of webhooks) if (signingSecretSetAt && (!latest || signingSecretSetAt > latest)) latest = signingSecretSetAt;
  return latest;
}

/** A webhook document's rotation overlap, when well-formed. */
export function previousSigningSecretOf(document: unknown): PreviousSigningSecret | undefined {
  const parsed = previousSigningSecretSchema.safeParse((document as { previousSigningSecret?: unknown } | undefined)?.previousSigningSecret);
  return parsed.success ? parsed.data : undefined;
}

/** Validates a webhook document; the reason names the webhook and the fields at fault. */
export function parseWebhookConfig(accountId: string, id: string, document: unknown): ParsedWebhook {
  const result = webhookSchema.safeParse(document ?? {});
  if (!result.success) return refused(id, fieldIssues(result.error.issues));
  const value = result.data;
  if (value.body === undefined && value.format !== 'json' && value.method !== 'GET' && value.method !== 'HEAD') {
    return refused(id, [{ field: 'body', message: `is required for format ${value.format} (without a body, the event is sent as JSON)` }]);
  }
  const previousSigningSecret = previousSigningSecretOf(document);
  const setAt = signingSecretSetAtSchema.safeParse((document as { signingSecretSetAt?: unknown } | undefined)?.signingSecretSetAt);
  return {
    ok: true,
    webhook: {
      id,
      accountId,
      name: value.name,
      enabled: value.enabled,
      events: value.events,
      method: value.method,
      url: value.url,
      query: value.query,
      headers: value.headers,
      format: value.format,
      body: value.body,
      backupUrl: value.backupUrl,
      timeoutSeconds: value.timeoutSeconds,
      signingSecretName: value.signingSecretName,
      // New fields are present only when set: an older document parses to exactly what it did.
      ...(value.filter === undefined ? {} : { filter: value.filter }),
      ...(value.retry === undefined ? {} : { retry: value.retry }),
      ...(value.auth === undefined ? {} : { auth: value.auth }),
      ...(value.rateLimit === undefined ? {} : { rateLimit: value.rateLimit }),
      ...(value.traceparent === undefined ? {} : { traceparent: value.traceparent }),
      ...(previousSigningSecret ? { previousSigningSecret } : {}),
      ...(setAt.success ? { signingSecretSetAt: setAt.data } : {}),
    },
  };
}
