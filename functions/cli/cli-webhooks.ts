/**
 * Webhooks as the CLI shows them: read from Firestore or from a file, their state (enabled or
 * disabled and why, validation, consecutive failures), and secret values masked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { webhookPath } from '../src/firestore/firestore-layout.ts';
import { fromFirestore } from '../src/firestore/firestore-values.ts';
import { webhookConfigHash } from '../src/validation/config-hash.ts';
import { storedValidation } from '../src/validation/validate-stored-webhook.ts';
import type { ValidationIssue } from '../src/validation/validate-webhook.ts';
import type { CliEnvironment } from './cli-environment.ts';
import { CliError, EXIT, checkFailed, dim, green, red, shortTime, usageError, yellow } from './cli-output.ts';

export interface LoadedWebhook {
  accountId: string;
  webhookId: string;
  /** `accounts/A/webhooks/W`, or the file it came from. */
  source: string;
  data: Record<string, unknown>;
  fromFile: boolean;
}

/** Reads a webhook document from a .json or .yaml file (as it would be typed in the console). */
export async function readWebhookFile(path: string, command: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, command);
  }
  const extension = extname(path).toLowerCase();
  let value: unknown;
  try {
    if (extension === '.json') value = JSON.parse(text);
    else {
      const { parse } = await import('yaml'); // YAML is a superset of JSON: any other extension too
      value = parse(text, { prettyErrors: true });
    }
  } catch (error) {
    throw checkFailed(`${path} is not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw checkFailed(`${path}: a webhook document must be a map of fields (name, events, url...)`);
  return value as Record<string, unknown>;
}

/** A file path when one exists (or it looks like one), else `<account>/<webhook>` in Firestore. */
export function isFileArgument(value: string): boolean {
  return existsSync(value) || /\.(json|ya?ml)$/i.test(value);
}

export async function readStoredWebhook(environment: CliEnvironment, accountId: string, webhookId: string): Promise<Record<string, unknown> | undefined> {
  const db = await environment.firestore();
  const snapshot = await environment.call('read the webhook', () => db.doc(webhookPath(accountId, webhookId)).get());
  return snapshot.exists ? fromFirestore<Record<string, unknown>>(snapshot.data()) : undefined;
}

export async function requireStoredWebhook(environment: CliEnvironment, accountId: string, webhookId: string): Promise<Record<string, unknown>> {
  const data = await readStoredWebhook(environment, accountId, webhookId);
  if (!data) throw new CliError(EXIT.failed, `no webhook at ${webhookPath(accountId, webhookId)} in ${environment.where}`);
  return data;
}

export async function loadWebhook(environment: () => CliEnvironment, argument: string, accountOption: string | undefined, command: string): Promise<LoadedWebhook> {
  if (isFileArgument(argument)) {
    const data = await readWebhookFile(argument, command);
    return { accountId: accountOption ?? 'acc_demo', webhookId: basename(argument).replace(/\.[^.]*$/, ''), source: argument, data, fromFile: true };
  }
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(argument);
  if (!match) throw usageError(`expected a .json/.yaml file or <account>/<webhook>, got '${argument}'`, command);
  const [accountId, webhookId] = [match[1]!, match[2]!];
  const data = await requireStoredWebhook(environment(), accountId, webhookId);
  return { accountId, webhookId, source: webhookPath(accountId, webhookId), data, fromFile: false };
}

export type ValidationState = 'ok' | 'failed' | 'pending' | 'unchecked';

/** The state a webhook is in, as shown above every listing and in --json. */
export interface WebhookState {
  path: string;
  name: string | null;
  events: string[];
  enabled: boolean;
  disabled: { reason: string | null; at: Date | null; consecutiveFailures: number | null } | null;
  validation: { state: ValidationState; checkedAt: Date | null; errors: ValidationIssue[]; warnings: ValidationIssue[] };
  consecutiveFailures: number;
}

export function webhookState(accountId: string, webhookId: string, data: Record<string, unknown>): WebhookState {
  const stored = storedValidation(data);
  const current = stored ? stored.configHash === webhookConfigHash(data) : false;
  const disabledField = data.disabled && typeof data.disabled === 'object' ? (data.disabled as Record<string, unknown>) : undefined;
  const enabled = data.enabled !== false;
  const health = data.health && typeof data.health === 'object' ? (data.health as Record<string, unknown>) : {};
  return {
    path: webhookPath(accountId, webhookId),
    name: typeof data.name === 'string' ? data.name : null,
    events: Array.isArray(data.events) ? data.events.map(String) : [],
    enabled,
    disabled: enabled
      ? null
      : {
          reason: typeof disabledField?.reason === 'string' ? disabledField.reason : null,
          at: disabledField?.at instanceof Date ? disabledField.at : null,
          consecutiveFailures: typeof disabledField?.consecutiveFailures === 'number' ? disabledField.consecutiveFailures : null,
        },
    validation: {
      state: !stored ? 'unchecked' : !current ? 'pending' : stored.ok ? 'ok' : 'failed',
      checkedAt: stored?.checkedAt instanceof Date ? stored.checkedAt : null,
      errors: stored && current ? stored.errors : [],
      warnings: stored && current ? (stored.warnings ?? []) : [],
    },
    consecutiveFailures: typeof health.consecutiveFailures === 'number' ? health.consecutiveFailures : 0,
  };
}

/** A few lines about the webhook: what it is, whether it is on, what its validation says. */
export function describeState(state: WebhookState): string {
  const lines = [`webhook ${state.path}${state.name ? ` "${state.name}"` : ''}${state.events.length ? ` on ${state.events.join(', ')}` : ''}`];
  if (state.enabled) lines.push(`  ${green('enabled')}`);
  else {
    const why = state.disabled?.reason ?? 'set by hand (enabled: false)';
    lines.push(`  ${red('DISABLED')} (enabled: false)${state.disabled?.at ? ` since ${shortTime(state.disabled.at)}` : ''}: ${why}`);
    lines.push(dim('  set enabled to true in the document to deliver again'));
  }
  const validation = state.validation;
  const checked = validation.checkedAt ? ` (checked ${shortTime(validation.checkedAt)})` : '';
  if (validation.state === 'ok') lines.push(`  validation: ${green('ok')}${checked}${validation.warnings.length ? `, ${validation.warnings.length} warning(s)` : ''}`);
  else if (validation.state === 'failed') {
    lines.push(`  validation: ${red('FAILED')}${checked}: deliveries are skipped until it is fixed`);
    for (const error of validation.errors) lines.push(`    ${red('✗')} ${error.message}`);
  } else if (validation.state === 'pending') lines.push(`  validation: ${yellow('pending')} (the document changed after the last check${checked})`);
  else lines.push(`  validation: ${dim('not checked yet')}`);
  for (const warning of validation.warnings) lines.push(`    ${yellow('!')} ${warning.message}`);
  if (state.consecutiveFailures > 0) lines.push(`  consecutive failed deliveries: ${state.consecutiveFailures}`);
  return lines.join('\n');
}

/**
 * Replaces secret values with `[secret:NAME]`, in the forms templates most often turn them into (as
 * written, percent-encoded, JSON-escaped, base64), longest first.
 */
export function maskSecrets(text: string, secrets: Record<string, string>): string {
  const needles: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (!value) continue;
    for (const form of new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')])) needles.push([form, `[secret:${name}]`]);
  }
  needles.sort((a, b) => b[0].length - a[0].length);
  let result = text;
  for (const [needle, mask] of needles) if (result.includes(needle)) result = result.split(needle).join(mask);
  return result;
}
