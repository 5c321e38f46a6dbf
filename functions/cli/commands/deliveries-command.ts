import { FirestoreDeliveryLog } from '../../src/firestore/firestore-delivery-log.ts';
import { COMMON_HELP, parseCommand, parsePositiveInteger, parseSince, parseStatus, parseWebhookRef } from '../cli-args.ts';
import { deliveriesTable } from '../cli-deliveries.ts';
import { dim, out, printJson, shortTime, usageError } from '../cli-output.ts';
import { describeState, readStoredWebhook, webhookState } from '../cli-webhooks.ts';
import type { CommandContext } from './command.ts';

export const DELIVERIES_HELP = `hookshape deliveries <account>/<webhook> [--status failed] [--since 1h] — the delivery log

Shows the webhook's state (enabled or disabled and why, its validation, consecutive failures), then
its deliveries, newest first: when, event, type, status, attempts, next attempt, last result.

Options:
  --status S     only pending, succeeded, retrying, failed or invalid deliveries
  --since T      only deliveries created in the last T (30m, 1h, 7d) or since an ISO date
  --limit N      at most N deliveries (default 20)

The full records (requests, responses) are in Firestore under the webhook's deliveries collection;
--json prints them.

${COMMON_HELP}`;

export async function deliveriesCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('deliveries', args, { status: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return context.help(DELIVERIES_HELP);
  if (positionals.length !== 1) throw usageError('give one webhook: <account>/<webhook>', 'deliveries');
  const { accountId, webhookId } = parseWebhookRef(positionals[0], 'deliveries');
  const status = parseStatus(values.status, 'deliveries');
  const since = parseSince(values.since, 'deliveries');
  const limit = parsePositiveInteger(values.limit, 'limit', 20, 1000, 'deliveries');
  const environment = context.environment(values.project, 'deliveries');
  const data = await readStoredWebhook(environment, accountId, webhookId);
  const log = new FirestoreDeliveryLog(await environment.firestore());
  const records = await environment.call('read the delivery log', () => log.list(accountId, webhookId, { ...(status ? { status } : {}), ...(since ? { since } : {}), limit }));
  const state = data ? webhookState(accountId, webhookId, data) : null;
  if (values.json) {
    printJson({ webhook: state, filter: { status: status ?? null, since: since ?? null, limit }, deliveries: records });
    return 0;
  }
  out(state ? describeState(state) : `webhook accounts/${accountId}/webhooks/${webhookId}: no such document (deleted?)`);
  out();
  const filter = [status && `status ${status}`, since && `since ${shortTime(since)}`].filter(Boolean).join(', ');
  if (records.length === 0) {
    out(`no deliveries${filter ? ` (${filter})` : ''}`);
    return 0;
  }
  out(deliveriesTable(records));
  out(dim(`\n${records.length} deliver${records.length === 1 ? 'y' : 'ies'}${filter ? ` (${filter})` : ''}, newest first${records.length === limit ? `; --limit ${limit} reached` : ''}`));
  return 0;
}
