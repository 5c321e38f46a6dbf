import { readFileSync } from 'node:fs';
import { sampleEvent } from '../../src/events/event-catalogue.ts';
import type { EventMessage } from '../../src/events/event-message.ts';
import { previewDelivery } from '../../src/dispatch/preview-delivery.ts';
import type { DeliveryTarget } from '../../src/render/build-request.ts';
import { TemplateEngine } from '../../src/render/template-engine.ts';
import { LocalFileSecretStore } from '../../src/secrets/local-file-secret-store.ts';
import { validateWebhookDocument, webhookPlaceholderSecrets } from '../../src/validation/validate-webhook.ts';
import { parseWebhookConfig } from '../../src/webhooks/webhook-config.ts';
import { COMMON_HELP, parseCommand } from '../cli-args.ts';
import { bold, checkFailed, dim, green, note, out, printJson, red, usageError } from '../cli-output.ts';
import { loadWebhook, maskSecrets, webhookState } from '../cli-webhooks.ts';
import type { CommandContext } from './command.ts';
import { requireEventType } from './events-command.ts';

export const PREVIEW_HELP = `hookshape preview <file|account/webhook> [--event <type>] [--data sample.json] — the exact request

Renders the webhook for an event exactly as a delivery would (the same code) and prints the request:
method and URL, headers, then the body. Nothing is sent. When the webhook has a filter, it says first
whether this event passes it, and if not, which condition failed on which value.

Options:
  --event TYPE      the event type (default: the webhook's first event); its catalogue sample is used
  --data FILE       a JSON file with the event's data instead of the sample (or a whole event message)
  --target T        primary (url, default) or backup (backupUrl)
  --account ID      account id of the event, for a file (default acc_demo)

Secret values never appear: they print as [secret:NAME]. From a file, secrets render as placeholders;
for a stored webhook on the local stack, the stack's secrets file is used (and still masked).

${COMMON_HELP}`;

function readEventData(path: string, base: EventMessage): EventMessage {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw usageError(`--data ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON: ${(error as Error).message}`}`, 'preview');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw usageError(`--data ${path}: must hold a JSON object`, 'preview');
  const object = value as Record<string, unknown>;
  // A whole event message ({ id, type, data... }) or just its data.
  if (object.data && typeof object.data === 'object' && ('type' in object || 'id' in object)) {
    return { ...base, ...(typeof object.id === 'string' ? { id: object.id } : {}), ...(typeof object.occurredAt === 'string' ? { occurredAt: object.occurredAt } : {}), data: object.data as Record<string, unknown> };
  }
  return { ...base, data: object };
}

export async function previewCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('preview', args, { event: { type: 'string' }, data: { type: 'string' }, target: { type: 'string' }, account: { type: 'string' } });
  if (values.help) return context.help(PREVIEW_HELP);
  if (positionals.length !== 1) throw usageError('give one webhook: a .json or .yaml file, or <account>/<webhook>', 'preview');
  const target = (values.target ?? 'primary') as DeliveryTarget;
  if (target !== 'primary' && target !== 'backup') throw usageError(`--target must be primary or backup, got '${values.target}'`, 'preview');
  const environment = () => context.environment(values.project, 'preview');
  const webhook = await loadWebhook(environment, positionals[0]!, values.account, 'preview');
  const engine = new TemplateEngine();
  const parsed = parseWebhookConfig(webhook.accountId, webhook.webhookId, webhook.data);
  if (!parsed.ok) {
    const report = await validateWebhookDocument(webhook.data, { accountId: webhook.accountId, webhookId: webhook.webhookId, engine });
    throw checkFailed(`${webhook.source} is not a valid webhook:\n${report.errors.map((error) => `  ✗ ${error.message}`).join('\n')}`);
  }
  const config = parsed.webhook;
  if (!webhook.fromFile) {
    const state = webhookState(webhook.accountId, webhook.webhookId, webhook.data);
    if (!state.enabled) note(`note: ${state.path} is DISABLED (enabled: false): ${state.disabled?.reason ?? 'set by hand'}; nothing is delivered until it is enabled`);
  }
  if (target === 'backup' && config.backupUrl === undefined) throw usageError(`${webhook.source} has no backupUrl`, 'preview');
  const type = requireEventType(values.event ?? config.events[0]!, 'preview');
  if (!config.events.includes(type)) note(`note: the webhook does not subscribe to ${type} (its events: ${config.events.join(', ')}): it would never receive it`);
  const sample = sampleEvent(type, webhook.accountId);
  const event = values.data ? readEventData(values.data, sample) : sample;

  const placeholders = webhookPlaceholderSecrets(webhook.data, engine);
  let secrets = placeholders;
  let secretSource = 'placeholders';
  const secretsFile = webhook.fromFile ? undefined : environment().secretsFile;
  if (secretsFile) {
    const real = await new LocalFileSecretStore(secretsFile).secretsFor(webhook.accountId);
    const known = Object.keys(placeholders).filter((name) => real[name] !== undefined);
    secrets = { ...placeholders, ...Object.fromEntries(known.map((name) => [name, real[name]!])) };
    if (known.length > 0) secretSource = `the local secrets file for ${known.join(', ')}`;
  }

  const { filter, built } = await previewDelivery(config, event, secrets, engine, target, new Date());
  const filterLine = config.filter === undefined ? undefined : filter.pass ? `${green('✓')} filter: this event passes (${filter.reason})` : `${red('✗')} filter: this event is filtered out: ${filter.reason}; it would not be delivered (no delivery record)`;
  if (filterLine && !values.json) note(filterLine);
  if (!built.ok) throw checkFailed(`${webhook.source} does not render to a valid request for ${type}${values.data ? ` with ${values.data}` : ' (catalogue sample)'}:\n  ✗ ${built.error.message}`);
  const request = built.request;
  const mask = (text: string) => maskSecrets(text, secrets);
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name, name.toLowerCase() === 'webhook-signature' ? '[signature: computed at send time]' : mask(value)]),
  );
  const shown = { method: request.method, url: mask(request.url), headers, body: request.body === undefined ? null : mask(request.body) };
  if (values.json) {
    printJson({ webhook: webhook.source, event: { id: event.id, type: event.type, accountId: event.accountId }, target, filter: config.filter === undefined ? null : filter, timeoutSeconds: config.timeoutSeconds, secrets: Object.keys(secrets), ...shown });
    return 0;
  }
  note(dim(`preview of ${webhook.source} (${target}) for ${type} ${event.id}; secrets: ${Object.keys(secrets).length ? `[secret:NAME] (${secretSource})` : 'none'}; nothing sent`));
  out(`${bold(shown.method)} ${shown.url}`);
  for (const [name, value] of Object.entries(shown.headers)) out(`${name}: ${value}`);
  if (shown.body !== null) out(`\n${shown.body}`);
  else note(dim(`(no body: ${shown.method} sends none)`));
  return 0;
}
