/**
 * Previews, test sends, the delivery log, replays and bulk recovery, through the same core as the
 * dispatcher and `hookshape replay`: previewDelivery renders (the dispatcher's own preview), startDelivery sends a test event, and replays
 * run startReplay/undoReplay in the log's read-modify-write and enqueue their attempt on the retry queue.
 */
import { createHash, randomBytes } from 'node:crypto';
import { classifyFailure, errorMessage } from '../core/failures.ts';
import { startDelivery, type LoadedSecrets } from '../delivery/deliver.ts';
import { hasEnded, type DeliveryStatus } from '../delivery/delivery-record.ts';
import type { DeliveryKey, StoredDelivery } from '../delivery/ports.ts';
import { startReplay, undoReplay } from '../delivery/transitions.ts';
import { EVENT_CATALOGUE, EVENT_ENVELOPE_VARIABLES, EVENT_TYPES, sampleEvent, type EventType } from '../events/event-catalogue.ts';
import type { EventMessage } from '../events/event-message.ts';
import { previewDelivery } from '../dispatch/preview-delivery.ts';
import type { DeliveryTarget } from '../render/build-request.ts';
import { signingKey } from '../send/standard-webhooks-signature.ts';
import { failedValidation } from '../validation/validate-stored-webhook.ts';
import { validateWebhookDocument, webhookPlaceholderSecrets } from '../validation/validate-webhook.ts';
import { parseWebhookConfig, previousSigningSecretOf, secretNamesOf, type PreviousSigningSecret, type WebhookConfig } from '../webhooks/webhook-config.ts';
import { WEBHOOK_ID } from '../webhooks/webhook-store.ts';
import { auditEntry, type ApiDeps, type RequestContext } from './api-deps.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { ApiProblem, fieldProblem, notFound } from './problem.ts';
import type { DeliveryCursor, RecoverJob, VersionedWebhook } from './ports.ts';
import { DEFAULT_KEEP_PREVIOUS_SECONDS, DEFAULT_PAGE_SIZE } from './schemas.ts';
import { patchWebhook, withEtag, type ApiResult } from './webhook-handlers.ts';

/** Bytes of delivery records in one page: a page ends early rather than grow past this. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Replays of a recover job started at once (each is a read-modify-write and a Cloud Tasks call). */
const RECOVER_CONCURRENCY = 8;
const DEFAULT_RECOVER_LIMIT = 100;

async function requireWebhook(deps: ApiDeps, accountId: string, webhookId: string): Promise<VersionedWebhook> {
  const webhook = await deps.webhooks.read(accountId, webhookId);
  if (!webhook) throw notFound();
  return webhook;
}

/** A stored document the dispatcher could not use: the request is fine, the webhook is not. */
function parsedOrRefused(accountId: string, webhook: VersionedWebhook): WebhookConfig {
  const parsed = parseWebhookConfig(accountId, webhook.id, webhook.data);
  if (!parsed.ok) throw new ApiProblem('conflict', `the stored webhook is not valid, fix it first: ${parsed.reason}`, { errors: parsed.issues.map((issue) => ({ ...issue, pointer: '' })) });
  return parsed.webhook;
}

// --- Preview and test -----------------------------------------------------------------------------

export interface PreviewInput {
  eventType?: EventType | undefined;
  data?: Record<string, unknown> | undefined;
  eventId?: string | undefined;
  target?: DeliveryTarget | undefined;
}

/** Why a webhook does not render for the event: the field of the webhook, and where in its template. */
export interface RenderError {
  field: string;
  line: number | null;
  column: number | null;
  message: string;
}

/**
 * A past event's data is the delivery log's: rendering against `eventId` needs `deliveries:read` besides
 * the route's `webhooks:read`, or a token that may not read deliveries would read them through a preview.
 * Checked before anything is looked up, so the refusal says nothing about what exists.
 */
function requireEventScope(context: RequestContext, body: PreviewInput): void {
  if (body.eventId === undefined || context.principal.scopes.has('deliveries:read')) return;
  throw new ApiProblem('insufficient_scope', "rendering against a past event (eventId) reads the delivery log: this needs the scope deliveries:read as well as webhooks:read (leave eventId out to render the catalogue's sample or your data)", {
    extensions: { requiredScope: 'deliveries:read' },
  });
}

/**
 * The request the dispatcher would send for this event, by its own code (previewDelivery), sending
 * nothing: for a stored webhook and for a draft alike. `ownWebhookId` is the webhook whose record of a
 * past event is read first (undefined for a draft of a new webhook: any webhook's record).
 */
async function renderPreview(deps: ApiDeps, accountId: string, webhook: WebhookConfig, document: Record<string, unknown>, body: PreviewInput, ownWebhookId: string | undefined): Promise<{ ok: true; preview: Record<string, unknown> } | { ok: false; error: RenderError }> {
  if (body.eventId !== undefined && (body.eventType !== undefined || body.data !== undefined)) {
    throw new ApiProblem('validation_failed', 'give eventId alone (the past event is rendered as it was), or eventType and data', { errors: [fieldProblem(['eventId'], 'goes without eventType and data')] });
  }
  const target = body.target ?? 'primary';
  if (target === 'backup' && webhook.backupUrl === undefined) throw new ApiProblem('validation_failed', 'the webhook has no backupUrl', { errors: [fieldProblem(['target'], 'is backup, but the webhook has no backupUrl')] });
  let event: EventMessage;
  let source: 'sample' | 'data' | 'event';
  if (body.eventId !== undefined) {
    const record = await deps.browser.findEvent(accountId, body.eventId, ownWebhookId);
    if (!record) throw new ApiProblem('not_found', `no delivery of an event ${body.eventId} in this account's log`);
    event = record.event;
    source = 'event';
  } else {
    const type = body.eventType ?? webhook.events[0]!;
    event = { ...sampleEvent(type, accountId), ...(body.data ? { data: body.data } : {}) };
    source = body.data ? 'data' : 'sample';
  }
  // Secrets render as placeholder-NAME: a preview shows where each secret goes, never its value.
  const secrets = webhookPlaceholderSecrets(document, deps.engine);
  // The dispatcher's own preview: the filter's verdict, and the request with auth credentials named.
  const { filter, built } = await previewDelivery(webhook, event, secrets, deps.engine, target, deps.clock.now());
  if (!built.ok) return { ok: false, error: { field: built.error.field, line: built.error.line ?? null, column: built.error.column ?? null, message: built.error.message } };
  const request = built.request;
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, name.toLowerCase() === 'webhook-signature' ? '[signature: computed at send time with the signing secret]' : value]));
  return {
    ok: true,
    preview: {
      method: request.method,
      url: request.url,
      headers,
      body: request.body ?? null,
      timeoutSeconds: webhook.timeoutSeconds,
      target,
      event: { id: event.id, type: event.type, accountId: event.accountId, occurredAt: event.occurredAt, source },
      secrets: Object.keys(secrets),
      filter,
    },
  };
}

export async function previewWebhook(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, body: PreviewInput): Promise<ApiResult> {
  requireEventScope(context, body);
  const stored = await requireWebhook(deps, accountId, webhookId);
  const webhook = parsedOrRefused(accountId, stored);
  const rendered = await renderPreview(deps, accountId, webhook, stored.data, body, webhookId);
  if (!rendered.ok) {
    // The field is the stored webhook's, not the request's: no pointer into the body.
    throw new ApiProblem('validation_failed', `the webhook does not render to a valid request for this event: ${rendered.error.message}`, { errors: [{ field: rendered.error.field, pointer: '', message: rendered.error.message }] });
  }
  return { status: 200, body: rendered.preview };
}

/** The id a draft of a new webhook renders with (templates may read webhook.id). */
export const DRAFT_WEBHOOK_ID = 'wh_draft';

/**
 * A draft that is not saved (the portal's editor as the person types): the dispatcher's checks of it,
 * as a save would run them (validation, with line and column), and, when it parses, the request it
 * makes for the sample, supplied data or a past event of the account, with the filter's verdict.
 * Writes nothing; an invalid draft is an answer (its findings), not a refusal.
 */
export async function previewDraft(deps: ApiDeps, context: RequestContext, accountId: string, body: PreviewInput & { webhook: Record<string, unknown>; webhookId?: string | undefined }): Promise<ApiResult> {
  requireEventScope(context, body);
  const { webhook: document, webhookId, ...input } = body;
  const id = webhookId ?? DRAFT_WEBHOOK_ID;
  const report = await validateWebhookDocument(document, { accountId, webhookId: id, engine: deps.engine, now: deps.clock.now(), allowLoopback: deps.allowLoopback });
  const validation = { ok: report.ok, errors: report.errors, warnings: report.warnings };
  const parsed = parseWebhookConfig(accountId, id, document);
  if (!parsed.ok) return { status: 200, body: { preview: null, renderError: null, validation } };
  const rendered = await renderPreview(deps, accountId, parsed.webhook, document, input, webhookId);
  return { status: 200, body: rendered.ok ? { preview: rendered.preview, renderError: null, validation } : { preview: null, renderError: rendered.error, validation } };
}

/** A test delivery: an event with a fresh `evt_test_` id, delivered now like any event (retries included). */
export async function testWebhook(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, body: { eventType?: EventType | undefined; data?: Record<string, unknown> | undefined }): Promise<ApiResult> {
  const stored = await requireWebhook(deps, accountId, webhookId);
  if (stored.data.enabled === false) throw new ApiProblem('webhook_disabled', 'the webhook is disabled (enabled: false): enable it first');
  const parsed = parseWebhookConfig(accountId, webhookId, stored.data);
  const type = body.eventType ?? (parsed.ok ? parsed.webhook.events[0] : undefined) ?? EVENT_TYPES[0];
  if (parsed.ok && !parsed.webhook.events.includes(type)) throw new ApiProblem('validation_failed', `the webhook does not subscribe to ${type}`, { errors: [fieldProblem(['eventType'], `is not one of the webhook's events (${parsed.webhook.events.join(', ')})`)] });
  const now = deps.clock.now();
  const event: EventMessage = { id: `evt_test_${now.getTime().toString(36)}_${randomBytes(4).toString('hex')}`, type, accountId, occurredAt: now.toISOString(), data: body.data ?? sampleEvent(type, accountId).data };
  let secrets: LoadedSecrets;
  try {
    secrets = { ok: true, secrets: await deps.secrets.secretsFor(accountId, parsed.ok ? secretNamesOf(parsed.webhook) : [], parsed.ok ? parsed.webhook.signingSecretSetAt : undefined) };
  } catch (error) {
    if (classifyFailure(error) === 'transient') throw error;
    secrets = { ok: false, error };
  }
  const logger = context.logger.child({ webhookId, eventId: event.id, deliveryId: `${webhookId}/${event.id}` });
  // No auto-disable bookkeeping: a test says nothing about the receiver's health over time.
  await startDelivery(
    { engine: deps.engine, sender: deps.sender, deliveries: deps.deliveries, scheduler: deps.scheduler, clock: deps.clock, logger, retry: deps.retry, timing: deps.timing, retentionDays: deps.retentionDays },
    { event, stored: { id: webhookId, data: stored.data }, parsed, secrets, withinLimit: true, fanOutLimit: 1 },
    logger,
  );
  const record = await deps.deliveries.get({ accountId, webhookId, eventId: event.id });
  if (!record) throw new Error(`the test delivery ${event.id} left no record`);
  await deps.webhooks.audit(accountId, auditEntry(context, 'webhook.test', `webhooks/${webhookId}/deliveries/${event.id}`, undefined, { eventId: event.id, status: record.status }));
  return { status: 201, body: record, headers: { Location: `/v1/accounts/${encodeURIComponent(accountId)}/webhooks/${encodeURIComponent(webhookId)}/deliveries/${event.id}` } };
}

// --- Signing secret -------------------------------------------------------------------------------

const SECRET_ACCOUNT = /^[A-Za-z0-9_-]+$/;
/** The names this route gives signing secrets (SIGNING_<hash of the webhook id> by default). */
const SIGNING_SECRET_NAME = /^SIGNING_[A-Za-z0-9_]+$/;

/**
 * Stores the secret (a new Secret Manager version when it exists: a rotation) and points the webhook at
 * it. The value is checked, stored, and forgotten: never logged, returned or hashed into the audit.
 *
 * A rotation keeps the secret it replaces for `keepPreviousSeconds` (24 hours by default): requests carry
 * a signature made with each, so a receiver still verifying with the old secret accepts them while its
 * owner switches. Replacing the value under the same name first copies the old value, inside the secret
 * store, to `<name>_PREVIOUS`; a new name leaves the old secret where it is.
 */
export async function setSigningSecret(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, body: { secret: string; name?: string | undefined; keepPreviousSeconds?: number | undefined }): Promise<ApiResult> {
  if (!deps.secretWriter) throw new ApiProblem('conflict', 'this deployment has no secret store to write to (SECRETS_SOURCE)');
  if (!SECRET_ACCOUNT.test(accountId)) throw new ApiProblem('conflict', 'secrets can be kept only for account ids of letters, digits, _ and -');
  const key = signingKey(body.secret);
  if (!key.ok) throw new ApiProblem('validation_failed', `the secret ${key.reason}`, { errors: [fieldProblem(['secret'], key.reason)] });
  const stored = await requireWebhook(deps, accountId, webhookId);
  const current = typeof stored.data.signingSecretName === 'string' ? stored.data.signingSecretName : undefined;
  const name = body.name ?? current ?? `SIGNING_${createHash('sha256').update(webhookId).digest('hex').slice(0, 12).toUpperCase()}`;
  // Everything is checked before anything is written. Only a signing secret's name, even when it is the
  // webhook's current one: `signingSecretName` is any writer's to set (a PATCH), so "the current name"
  // could be the account's OAuth2 client secret or bearer token, which are not this route's to overwrite.
  if (!SIGNING_SECRET_NAME.test(name)) {
    const which = body.name === undefined ? `the webhook's signingSecretName, ${name},` : `the name ${name}`;
    throw new ApiProblem('validation_failed', `${which} is not a signing secret's: give a name of SIGNING_ and letters, digits or _ (the webhook then points at it), or leave it out`, { errors: [fieldProblem(['name'], 'must start with SIGNING_ (letters, digits, _); this route writes no other secret')] });
  }
  if (name !== current) {
    const named = parseWebhookConfig(accountId, webhookId, { ...stored.data, signingSecretName: name });
    if (!named.ok) throw new ApiProblem('conflict', `the stored webhook is not valid, fix it first: ${named.reason}`, { errors: named.issues.map((issue) => ({ ...issue, pointer: '' })) });
  }
  const keepSeconds = body.keepPreviousSeconds ?? DEFAULT_KEEP_PREVIOUS_SECONDS;
  let previous: PreviousSigningSecret | undefined;
  let repeated = false;
  if (current !== undefined && keepSeconds > 0) {
    const until = new Date(deps.clock.now().getTime() + keepSeconds * 1000);
    if (name !== current) previous = { name: current, until };
    else {
      // A request sent again (a retry, a double click) finds its own value stored: copying it would
      // overwrite the previous secret with the new one. The overlap it recorded then stands as it is.
      const copy = await deps.secretWriter.copySecret(accountId, name, `${name}_PREVIOUS`, body.secret);
      if (copy === 'copied') previous = { name: `${name}_PREVIOUS`, until };
      repeated = copy === 'same';
    }
  }
  // The overlap is hookshape's field, not configuration: written (or ended: a rotation without one, the
  // first secret) before the new value is stored, so a failure after this leaves the old secret signing,
  // never the new one without it.
  if (!repeated && (previous || stored.data.previousSigningSecret !== undefined)) {
    await deps.webhooks.update(
      accountId,
      webhookId,
      undefined,
      (webhook) => {
        const { previousSigningSecret: _ended, ...rest } = webhook.data;
        return previous ? { ...rest, previousSigningSecret: previous } : rest;
      },
      (before, after) => auditEntry(context, 'webhook.signing-secret.overlap', `webhooks/${webhookId}`, before, after),
    );
  }
  await deps.secretWriter.setSecret(accountId, name, body.secret);
  // Stamped once the value is stored: an instance whose copy of the account's secrets is older reads them
  // again when it next sees the webhook (within WEBHOOK_CACHE_SECONDS), instead of signing with the value
  // replaced (a leaked one, or an older `<NAME>_PREVIOUS`) for as long as its cache lasts.
  const setAt = deps.clock.now();
  const stamped = await deps.webhooks.update(
    accountId,
    webhookId,
    undefined,
    (webhook) => ({ ...webhook.data, signingSecretSetAt: setAt }),
    () => auditEntry(context, 'webhook.signing-secret.set', `webhooks/${webhookId}/signing-secret/${name}`, undefined, undefined),
  );
  if (!stamped.ok) throw notFound(); // deleted meanwhile (no version was asked for)
  // A secret name is the account's, not the webhook's: a copy (the portal's Duplicate) or a webhook pointed
  // at it by hand signs with the same value, and reads it again only if stamped too.
  await stampSharing(deps, context, accountId, webhookId, [name, `${name}_PREVIOUS`], setAt);
  const kept = repeated ? previousSigningSecretOf(stored.data) : previous;
  context.logger.log('NOTICE', `signing secret ${name} of webhook ${webhookId} set${kept ? `; the previous one (${kept.name}) also signs until ${kept.until.toISOString()}` : ''}`, { webhookId, secretName: name, previousSecretName: kept?.name ?? null });
  // Naming the secret is a change of configuration: validated and written like any patch (which keeps
  // the overlap: it is about the secret this change replaces).
  const patched = current === name ? undefined : await patchWebhook(deps, context, accountId, webhookId, '*', { signingSecretName: name });
  // The webhook as the last write left it: the patch's answer, else the stamp's.
  const written = patched ?? withEtag(200, stamped.webhook);
  const previousView = kept ? { name: kept.name, until: kept.until.toISOString() } : null;
  return { status: 200, body: { name, previous: previousView, webhook: written.body }, ...(written.headers ? { headers: written.headers } : {}) };
}

/** Stamps signingSecretSetAt on the account's other webhooks that name any of `names` (signing, overlap or auth). */
async function stampSharing(deps: ApiDeps, context: RequestContext, accountId: string, except: string, names: readonly string[], setAt: Date): Promise<void> {
  const named = (data: Record<string, unknown>) => secretNamesOf(data).some((secret) => names.includes(secret));
  for (let afterId: string | undefined; ; ) {
    const page = await deps.webhooks.list(accountId, { afterId, limit: 100 });
    for (const webhook of page) {
      if (webhook.id === except || !named(webhook.data)) continue;
      await deps.webhooks.update(accountId, webhook.id, undefined, (current) => (named(current.data) ? { ...current.data, signingSecretSetAt: setAt } : undefined), () =>
        auditEntry(context, 'webhook.signing-secret.shared', `webhooks/${webhook.id}`, undefined, undefined),
      );
    }
    if (page.length < 100) return;
    afterId = page.at(-1)!.id;
  }
}

// --- The delivery log -----------------------------------------------------------------------------

const isDeliveryCursor = (accountId: string, webhookId: string | undefined) => (value: unknown): value is DeliveryCursor => {
  const cursor = value as Partial<DeliveryCursor>;
  if (typeof cursor.createdAt !== 'string' || !/^\d{1,12}\.\d{9}$/.test(cursor.createdAt) || typeof cursor.path !== 'string') return false;
  const parts = cursor.path.split('/');
  // accounts/A/webhooks/W/deliveries/E, of this account (and webhook, when the list is one webhook's).
  // Each id is a document id (WEBHOOK_ID's rule: not empty, not . or ..), so a crafted path is a 400, not a 500.
  return parts.length === 6 && parts[0] === 'accounts' && parts[1] === accountId && parts[2] === 'webhooks' && parts[4] === 'deliveries' && WEBHOOK_ID.test(parts[3]!) && WEBHOOK_ID.test(parts[5]!) && (webhookId === undefined || parts[3] === webhookId);
};

export async function listDeliveries(
  deps: ApiDeps,
  _context: RequestContext,
  accountId: string,
  query: { webhookId?: string | undefined; status?: DeliveryStatus | undefined; eventType?: EventType | undefined; since?: string | undefined; until?: string | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<ApiResult> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isDeliveryCursor(accountId, query.webhookId));
  const filter = { webhookId: query.webhookId, status: query.status, eventType: query.eventType, since: query.since ? new Date(query.since) : undefined, until: query.until ? new Date(query.until) : undefined };
  const page = await deps.browser.list(accountId, filter, { after, limit });
  const data: StoredDelivery[] = [];
  let bytes = 0;
  let last: DeliveryCursor | undefined;
  for (const { record, cursor } of page.records) {
    bytes += Buffer.byteLength(JSON.stringify(record));
    if (data.length > 0 && bytes > MAX_PAGE_BYTES) break;
    data.push(record);
    last = cursor;
  }
  const more = page.more || data.length < page.records.length;
  return { status: 200, body: { data, nextCursor: more && last ? encodeCursor(last) : null } };
}

export async function getDelivery(deps: ApiDeps, _context: RequestContext, key: DeliveryKey): Promise<ApiResult> {
  const record = await deps.deliveries.get(key);
  if (!record) throw notFound();
  return { status: 200, body: record };
}

/** Why the webhook's deliveries cannot be replayed now, as `hookshape replay` says it. */
function replayBlocked(webhook: VersionedWebhook | undefined): ApiProblem | undefined {
  if (!webhook) return new ApiProblem('conflict', 'the webhook was deleted: nothing to replay to');
  if (webhook.data.enabled === false) return new ApiProblem('webhook_disabled', 'the webhook is disabled (enabled: false): the retry worker would end the replay as failed; enable it first');
  if (failedValidation(webhook.data)) return new ApiProblem('conflict', 'the webhook failed its validation: a replay would be invalid; fix the document first');
  return undefined;
}

type ReplayOutcome = { started: true; record: StoredDelivery } | { started: false; reason: string };

/** One replay: the transition in the log's read-modify-write, its first attempt enqueued, undone if that fails. */
/** The webhook's rate limit, so a replay of a rate-limited webhook waits in its queue like any delivery. */
function rateLimitOf(key: DeliveryKey, webhook: VersionedWebhook | undefined) {
  const parsed = webhook ? parseWebhookConfig(key.accountId, key.webhookId, webhook.data) : undefined;
  return parsed?.ok === true ? parsed.webhook.rateLimit : undefined;
}

async function replayOne(deps: ApiDeps, key: DeliveryKey, webhook: VersionedWebhook | undefined): Promise<ReplayOutcome> {
  const now = deps.clock.now();
  const start = await deps.deliveries.modify(key, startReplay(now, deps.timing));
  if (!start.started) return start;
  try {
    await deps.scheduler.schedule({ ...key, attempt: start.next.number, series: start.next.series }, now, rateLimitOf(key, webhook));
  } catch (error) {
    // Without its task a replayed finished record would wait forever: put back as it was. A stale
    // record's replay stands (undoReplay), and the repair sweep enqueues it.
    await deps.deliveries.modify(key, undoReplay(start.next.series, deps.clock.now()));
    throw error;
  }
  return { started: true, record: start.record };
}

export async function replayDelivery(deps: ApiDeps, context: RequestContext, key: DeliveryKey): Promise<ApiResult> {
  const [webhook, existing] = await Promise.all([deps.webhooks.read(key.accountId, key.webhookId), deps.deliveries.get(key)]);
  if (!existing) throw notFound();
  const blocked = replayBlocked(webhook);
  if (blocked) throw blocked;
  const outcome = await replayOne(deps, key, webhook);
  if (!outcome.started) throw outcome.reason === 'no such delivery' ? notFound() : new ApiProblem('not_replayable', `not replayed: ${outcome.reason}`);
  await deps.webhooks.audit(key.accountId, auditEntry(context, 'delivery.replay', `webhooks/${key.webhookId}/deliveries/${key.eventId}`, existing, outcome.record));
  context.logger.log('NOTICE', `delivery ${key.webhookId}/${key.eventId} replayed (was ${existing.status})`, { webhookId: key.webhookId, eventId: key.eventId });
  return { status: 202, body: outcome.record };
}

// --- Bulk recovery --------------------------------------------------------------------------------

async function jobView(deps: ApiDeps, job: RecoverJob): Promise<Record<string, unknown>> {
  const records = await deps.browser.getAll(job.accountId, job.replayed);
  const byStatus: Record<string, number> = {};
  for (const record of records) byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
  const finished = job.state !== 'running' && records.every((record) => hasEnded(record.status));
  const { replayed, ...rest } = job;
  return { ...rest, replayed: replayed.length, progress: { byStatus, finished } };
}

async function mapConcurrent<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/**
 * Replays every delivery matching the filter (newest first, at most `limit`), a page at a time, writing
 * the job's progress after each page so it can be polled while it runs. Each replay goes through Cloud
 * Tasks to the retry worker, as with `hookshape replay`; the job then reports where they are.
 */
export async function createRecoverJob(
  deps: ApiDeps,
  context: RequestContext,
  accountId: string,
  body: { since: string; until?: string | undefined; status?: 'failed' | 'invalid' | undefined; webhookId?: string | undefined; eventType?: EventType | undefined; limit?: number | undefined },
): Promise<ApiResult> {
  const now = deps.clock.now();
  const limit = body.limit ?? DEFAULT_RECOVER_LIMIT;
  const job: RecoverJob = {
    id: `job_${now.getTime().toString(36)}${randomBytes(6).toString('base64url')}`,
    accountId,
    state: 'running',
    filter: { status: body.status ?? 'failed', since: new Date(body.since), until: body.until ? new Date(body.until) : null, webhookId: body.webhookId ?? null, eventType: body.eventType ?? null, limit },
    createdAt: now,
    updatedAt: now,
    createdBy: context.principal.actor,
    matched: 0,
    replayed: [],
    skipped: [],
    truncated: false,
    error: null,
  };
  await deps.jobs.save(job);
  await deps.webhooks.audit(accountId, auditEntry(context, 'recover-job.create', `recoverJobs/${job.id}`, undefined, job.filter));
  const webhooks = new Map<string, Promise<VersionedWebhook | undefined>>();
  const webhookOf = (id: string) => webhooks.get(id) ?? webhooks.set(id, deps.webhooks.read(accountId, id)).get(id)!;
  let after: DeliveryCursor | undefined;
  try {
    for (;;) {
      const page = await deps.browser.list(accountId, { ...job.filter, webhookId: body.webhookId, eventType: body.eventType, until: job.filter.until ?? undefined }, { after, limit: Math.min(100, limit - job.matched) });
      const records = page.records.slice(0, limit - job.matched);
      job.matched += records.length;
      await mapConcurrent(records, RECOVER_CONCURRENCY, async ({ record }) => {
        const key = { accountId, webhookId: record.webhookId, eventId: record.eventId };
        const webhook = await webhookOf(record.webhookId);
        const blocked = replayBlocked(webhook);
        const outcome: ReplayOutcome = blocked ? { started: false, reason: blocked.message } : await replayOne(deps, key, webhook);
        if (outcome.started) job.replayed.push({ webhookId: key.webhookId, eventId: key.eventId });
        else job.skipped.push({ webhookId: key.webhookId, eventId: key.eventId, reason: outcome.reason });
      });
      job.updatedAt = deps.clock.now();
      after = page.records.at(-1)?.cursor;
      if (job.matched >= limit) job.truncated = page.more || page.records.length > records.length;
      if (!page.more || job.matched >= limit || !after) break;
      await deps.jobs.save(job);
    }
    job.state = 'done';
  } catch (error) {
    job.state = 'interrupted';
    job.error = `interrupted after ${job.replayed.length} replay(s): ${errorMessage(error).split('\n')[0]}; start another job for the rest`;
    context.logger.log('ERROR', `recover job ${job.id} interrupted: ${errorMessage(error)}`, { jobId: job.id, stack: (error as Error)?.stack ?? null });
  }
  job.updatedAt = deps.clock.now();
  await deps.jobs.save(job);
  context.logger.log('NOTICE', `recover job ${job.id}: ${job.replayed.length} replayed, ${job.skipped.length} skipped of ${job.matched}`, { jobId: job.id });
  return { status: 201, body: await jobView(deps, job), headers: { Location: `/v1/accounts/${encodeURIComponent(accountId)}/recover-jobs/${job.id}` } };
}

export async function getRecoverJob(deps: ApiDeps, _context: RequestContext, accountId: string, jobId: string): Promise<ApiResult> {
  const job = await deps.jobs.get(accountId, jobId);
  if (!job) throw notFound();
  return { status: 200, body: await jobView(deps, job) };
}

// --- The catalogue --------------------------------------------------------------------------------

export function listEventTypes(): ApiResult {
  const data = EVENT_TYPES.map((type) => {
    const definition = EVENT_CATALOGUE[type];
    return { type, description: definition.description, seedName: definition.seedName, variables: definition.variables, sample: definition.sample };
  });
  return { status: 200, body: { data, envelope: EVENT_ENVELOPE_VARIABLES, nextCursor: null } };
}
