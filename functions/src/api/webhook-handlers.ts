/**
 * Webhooks through the API: the same documents the console edits. Every write is validated by the
 * checks of the validateWebhook trigger (validation/validate-webhook.ts) and refused with their errors
 * when it fails; a write that passes stores the result in `validation` with the document's config hash,
 * so the trigger finds it current and writes nothing more.
 */
import { randomBytes } from 'node:crypto';
import { webhookConfigHash, NON_CONFIG_FIELDS } from '../validation/config-hash.ts';
import { validateWebhookDocument, type StoredValidation, type ValidationIssue, type ValidationReport } from '../validation/validate-webhook.ts';
import { auditEntry, type ApiDeps, type RequestContext } from './api-deps.ts';
import { ApiProblem, notFound, type ProblemField } from './problem.ts';
import type { VersionedWebhook, WriteResult } from './ports.ts';
import { DEFAULT_PAGE_SIZE, WebhookInput } from './schemas.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { describeFieldIssues, fieldIssues } from '../webhooks/describe-issues.ts';
import { WEBHOOK_ID } from '../webhooks/webhook-store.ts';

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const etagOf = (version: string): string => `"${version}"`;

/** The API's view of a webhook: the document's fields plus its id. */
export const webhookView = (webhook: VersionedWebhook): Record<string, unknown> => ({ ...webhook.data, id: webhook.id });
export const withEtag = (status: number, webhook: VersionedWebhook): ApiResult => ({ status, body: webhookView(webhook), headers: { ETag: etagOf(webhook.version) } });

/** `"1732000000.123456789"` (or W/ of it, or *) → the version; a made-up one never matches. */
export function versionFromIfMatch(header: string | undefined): string | undefined | '*' {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const match = /^(?:W\/)?"([^"]*)"$/.exec(value) ?? /^([^",\s]+)$/.exec(value);
  return match ? match[1]! : `invalid:${value.slice(0, 40)}`;
}

/** A field of a validation issue as a JSON pointer: `headers.X-Y` → /headers/X-Y, `events[1]` → /events/1. */
function pointerOfField(field: string): string {
  const map = /^(query|headers)\.(.*)$/.exec(field);
  if (map) return `/${map[1]}/${map[2]!.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  return field ? `/${field.replace(/\[(\d+)\]/g, '/$1').replace(/\./g, '/')}` : '';
}

const issueField = (issue: ValidationIssue): ProblemField & { line: number | null; column: number | null } => ({ field: issue.field, pointer: pointerOfField(issue.field), message: issue.message, line: issue.line, column: issue.column });

/** Runs the trigger's checks on a document about to be written; refuses it when they fail. */
async function validated(deps: ApiDeps, accountId: string, webhookId: string, document: Record<string, unknown>): Promise<StoredValidation> {
  const now = deps.clock.now();
  const report: ValidationReport = await validateWebhookDocument(document, { accountId, webhookId, engine: deps.engine, now, allowLoopback: deps.allowLoopback });
  if (!report.ok) {
    throw new ApiProblem('validation_failed', `the webhook would not deliver: ${report.errors.slice(0, 3).map((issue) => issue.message).join('; ')}`, {
      errors: report.errors.map(issueField),
      extensions: { validation: { ok: false, errors: report.errors, warnings: report.warnings } },
    });
  }
  return { ...report, checkedAt: now, configHash: webhookConfigHash(document) };
}

/** The configuration fields of a parsed body, without undefined (Firestore stores no undefined). */
/**
 * Fields whose schema compiles what a person wrote (a filter into its evaluator's form, retryOn
 * statuses into ranges): the document keeps them as written, as the console would, and the dispatcher
 * compiles them again when it reads the document.
 */
const AS_WRITTEN = ['filter', 'retry'] as const;

/** The document's configuration from the parsed body, with AS_WRITTEN fields taken from `written`. */
function configOf(parsed: Record<string, unknown>, written: Record<string, unknown>): Record<string, unknown> {
  const config = Object.fromEntries(Object.entries(parsed).filter(([key, value]) => value !== undefined && key !== 'id'));
  for (const key of AS_WRITTEN) if (written[key] !== undefined && written[key] !== null && key in config) config[key] = written[key];
  return config;
}

/**
 * The fields hookshape keeps across a replace: health and signingSecretSetAt always; the auto-disable record while disabled; a
 * signing secret rotation's overlap (the portal's editor saves the whole webhook) while it is about the
 * secret the webhook signs with now or the one this change replaces: pointing the webhook at another
 * secret by hand (after a leak, say) ends an overlap about an older one.
 */
function keptFields(current: Record<string, unknown>, config: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  if (current.health !== undefined) kept.health = current.health;
  if (config.enabled === false && current.disabled !== undefined) kept.disabled = current.disabled;
  const overlap = current.previousSigningSecret as { name?: unknown } | undefined;
  if (overlap !== undefined && (config.signingSecretName === current.signingSecretName || overlap.name === current.signingSecretName)) kept.previousSigningSecret = overlap;
  // About the account's secret store, not this configuration: an instance still holding an older value reads again.
  if (current.signingSecretSetAt !== undefined) kept.signingSecretSetAt = current.signingSecretSetAt;
  return kept;
}

function writeFailed(result: Exclude<WriteResult, { ok: true }>): ApiProblem {
  if (result.reason === 'missing') return notFound();
  if (result.reason === 'exists') return new ApiProblem('conflict', 'a webhook with this id exists; choose another id, or leave id out');
  return new ApiProblem('precondition_failed', 'the webhook changed since it was read (If-Match): read it again, re-apply the change and send the new ETag');
}

export async function listWebhooks(deps: ApiDeps, _context: RequestContext, accountId: string, query: { cursor?: string | undefined; limit?: number | undefined }): Promise<ApiResult> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  // A cursor is the client's to send back: its id is checked as an id, so a crafted one is a 400, not a 500.
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, (value): value is { after: string } => typeof (value as { after?: unknown }).after === 'string' && WEBHOOK_ID.test((value as { after: string }).after));
  const page = await deps.webhooks.list(accountId, { afterId: after?.after, limit: limit + 1 });
  const data = page.slice(0, limit);
  return { status: 200, body: { data: data.map(webhookView), nextCursor: page.length > limit ? encodeCursor({ after: data.at(-1)!.id }) : null } };
}

export async function getWebhook(deps: ApiDeps, _context: RequestContext, accountId: string, webhookId: string): Promise<ApiResult> {
  const webhook = await deps.webhooks.read(accountId, webhookId);
  if (!webhook) throw notFound();
  return withEtag(200, webhook);
}

export async function createWebhook(deps: ApiDeps, context: RequestContext, accountId: string, body: Record<string, unknown>, written: Record<string, unknown>): Promise<ApiResult> {
  const webhookId = typeof body.id === 'string' ? body.id : `wh_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`;
  const config = configOf(body, written);
  const validation = await validated(deps, accountId, webhookId, config);
  const document = { ...config, validation };
  const result = await deps.webhooks.create(accountId, webhookId, document, (after) => auditEntry(context, 'webhook.create', `webhooks/${webhookId}`, undefined, after));
  if (!result.ok) throw writeFailed(result);
  context.logger.log('INFO', `webhook ${webhookId} created`, { webhookId, warnings: validation.warnings.length });
  return { ...withEtag(201, result.webhook), headers: { ETag: etagOf(result.webhook.version), Location: `/v1/accounts/${encodeURIComponent(accountId)}/webhooks/${encodeURIComponent(webhookId)}` } };
}

function requiredVersion(ifMatch: string | undefined): string | undefined {
  const version = versionFromIfMatch(ifMatch);
  if (version === undefined) throw new ApiProblem('precondition_required', 'send If-Match with the ETag you read (GET the webhook), or If-Match: * to replace whatever is there');
  return version === '*' ? undefined : version;
}

/**
 * The new document from the current one and a new configuration: validated, with what hookshape keeps.
 * Validation runs before the transaction (it renders every sample): if the document changed meanwhile
 * the precondition refuses the write, so a stale validation is never stored.
 */
async function replaceConfig(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, ifVersion: string | undefined, action: string, nextConfig: (current: VersionedWebhook) => Record<string, unknown>): Promise<ApiResult> {
  const current = await deps.webhooks.read(accountId, webhookId);
  if (!current) throw notFound();
  if (ifVersion !== undefined && current.version !== ifVersion) throw writeFailed({ ok: false, reason: 'changed' });
  const config = nextConfig(current);
  const validation = await validated(deps, accountId, webhookId, config);
  const document = { ...config, ...keptFields(current.data, config), validation };
  const result = await deps.webhooks.update(accountId, webhookId, current.version, () => document, (before, after) => auditEntry(context, action, `webhooks/${webhookId}`, before, after));
  if (!result.ok) throw writeFailed(result);
  context.logger.log('INFO', `webhook ${webhookId}: ${action}`, { webhookId });
  return withEtag(200, result.webhook);
}

export function replaceWebhook(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, ifMatch: string | undefined, body: Record<string, unknown>, written: Record<string, unknown>): Promise<ApiResult> {
  const ifVersion = requiredVersion(ifMatch);
  return replaceConfig(deps, context, accountId, webhookId, ifVersion, 'webhook.replace', () => configOf(body, written));
}

/**
 * RFC 7396 on the configuration: a field with null goes (back to its default); others replace. Fields
 * the console added that the schema does not know stay, as the console left them (a warning says so).
 */
export function patchWebhook(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, ifMatch: string | undefined, patch: Record<string, unknown>): Promise<ApiResult> {
  const ifVersion = requiredVersion(ifMatch);
  return replaceConfig(deps, context, accountId, webhookId, ifVersion, 'webhook.patch', (current) => {
    const merged: Record<string, unknown> = Object.fromEntries(Object.entries(current.data).filter(([key]) => !(NON_CONFIG_FIELDS as readonly string[]).includes(key) || key === 'enabled'));
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else if (value !== undefined) merged[key] = value;
    }
    // The merged document must still be a valid webhook by the strict schema, defaults filled in.
    const known = Object.fromEntries(Object.entries(merged).filter(([key]) => key in WebhookInput.shape));
    const parsed = WebhookInput.safeParse(known);
    if (!parsed.success) {
      const issues = fieldIssues(parsed.error.issues);
      throw new ApiProblem('validation_failed', `the patched webhook is not valid: ${describeFieldIssues(issues)}`, { errors: issues.map((item) => ({ ...item, pointer: pointerOfField(item.field) })) });
    }
    const unknown = Object.fromEntries(Object.entries(merged).filter(([key]) => !(key in WebhookInput.shape)));
    return { ...unknown, ...configOf(parsed.data as Record<string, unknown>, known) };
  });
}

export async function deleteWebhook(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, ifMatch: string | undefined): Promise<ApiResult> {
  const version = versionFromIfMatch(ifMatch);
  const result = await deps.webhooks.remove(accountId, webhookId, version === '*' ? undefined : version, (before) => auditEntry(context, 'webhook.delete', `webhooks/${webhookId}`, before, undefined));
  if (!result.ok) throw writeFailed(result);
  context.logger.log('INFO', `webhook ${webhookId} deleted`, { webhookId });
  return { status: 204 };
}

/**
 * enabled: true (the auto-disable record goes with it, and the failure count starts from zero: failures
 * that ended after the disable may have counted) or false. Not configuration: validation stands.
 */
export async function setEnabled(deps: ApiDeps, context: RequestContext, accountId: string, webhookId: string, ifMatch: string | undefined, enabled: boolean): Promise<ApiResult> {
  const version = versionFromIfMatch(ifMatch);
  const result = await deps.webhooks.update(
    accountId,
    webhookId,
    version === '*' ? undefined : version,
    (current) => {
      const { disabled: _disabled, ...rest } = current.data;
      const health = rest['health'];
      const restarted = health && typeof health === 'object' ? { health: { ...health, consecutiveFailures: 0 } } : {};
      return enabled ? { ...rest, ...restarted, enabled: true } : { ...current.data, enabled: false };
    },
    (before, after) => auditEntry(context, enabled ? 'webhook.enable' : 'webhook.disable', `webhooks/${webhookId}`, before, after),
  );
  if (!result.ok) throw writeFailed(result);
  context.logger.log('INFO', `webhook ${webhookId} ${enabled ? 'enabled' : 'disabled'}`, { webhookId });
  return withEtag(200, result.webhook);
}
