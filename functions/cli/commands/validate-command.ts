import { TemplateEngine } from '../../src/render/template-engine.ts';
import { webhookConfigHash } from '../../src/validation/config-hash.ts';
import { validateWebhookDocument, type ValidationIssue } from '../../src/validation/validate-webhook.ts';
import { COMMON_HELP, parseCommand } from '../cli-args.ts';
import { green, out, printJson, red, usageError, yellow } from '../cli-output.ts';
import { describeState, loadWebhook, webhookState } from '../cli-webhooks.ts';
import type { CommandContext } from './command.ts';

export const VALIDATE_HELP = `hookshape validate <file.json|file.yaml|account/webhook> — check a webhook document

Runs the checks of the validateWebhook trigger, without saving anything: the schema, that every
template compiles (and the URL's host lock), and that the catalogue sample of every subscribed event
renders to a valid request (absolute http(s) URL, safe headers, a body that parses) for url and
backupUrl. Secrets are not needed: templates render with a placeholder for each secret they name.

Options:
  --account ID   account id the samples carry, for a file (default acc_demo)

Exit code: 0 valid (warnings allowed), 1 errors, 2 usage error, 3 cannot reach Firestore.

${COMMON_HELP}`;

const line = (mark: string, issue: ValidationIssue) => `  ${mark} ${issue.message}`;

export async function validateCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('validate', args, { account: { type: 'string' } });
  if (values.help) return context.help(VALIDATE_HELP);
  if (positionals.length !== 1) throw usageError('give one webhook document: a .json or .yaml file, or <account>/<webhook>', 'validate');
  const webhook = await loadWebhook(() => context.environment(values.project, 'validate'), positionals[0]!, values.account, 'validate');
  const report = await validateWebhookDocument(webhook.data, { accountId: webhook.accountId, webhookId: webhook.webhookId, engine: new TemplateEngine() });
  if (values.json) {
    printJson({ source: webhook.source, ...report, configHash: webhookConfigHash(webhook.data) });
  } else {
    if (!webhook.fromFile) out(`${describeState(webhookState(webhook.accountId, webhook.webhookId, webhook.data))}\n`);
    const events = Array.isArray(webhook.data.events) ? webhook.data.events.join(', ') : '';
    out(report.ok ? `${green('✓')} ${webhook.source}: valid${events ? ` (checked with the samples of ${events})` : ''}` : `${red('✗')} ${webhook.source}: ${report.errors.length} error(s)`);
    for (const error of report.errors) out(line(red('✗'), error));
    for (const warning of report.warnings) out(line(yellow('!'), warning));
  }
  return report.ok ? 0 : 1;
}
