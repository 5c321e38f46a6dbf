import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../events/event-catalogue.ts';
import { describeFieldIssues, fieldIssues, type FieldIssue } from './describe-issues.ts';
import { parseFilter, type EventFilter } from './event-filter.ts';

export const HttpMethod = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;
export type HttpMethod = (typeof HttpMethod)[number];

export const BodyFormat = ['json', 'xml', 'text', 'csv', 'yaml', 'form'] as const;
export type BodyFormat = (typeof BodyFormat)[number];

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
  /** Which events of its types the webhook wants (event-filter.ts); absent: all of them. */
  filter?: EventFilter;
}

const template = (what: string) => z.string({ error: `must be a text ${what}` });

const webhookSchema = z.object({
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
  signingSecretName: z
    .string({ error: 'must be the name of a secret, e.g. SIGNING_SECRET' })
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of a secret (letters, digits, _), e.g. SIGNING_SECRET, not the secret itself')
    .optional(),
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

/** Validates a webhook document; the reason names the webhook and the fields at fault. */
export function parseWebhookConfig(accountId: string, id: string, document: unknown): ParsedWebhook {
  const result = webhookSchema.safeParse(document ?? {});
  if (!result.success) return refused(id, fieldIssues(result.error.issues));
  const value = result.data;
  if (value.body === undefined && value.format !== 'json' && value.method !== 'GET' && value.method !== 'HEAD') {
    return refused(id, [{ field: 'body', message: `is required for format ${value.format} (without a body, the event is sent as JSON)` }]);
  }
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
    },
  };
}
