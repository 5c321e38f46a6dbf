import { DeliveryStatus } from '../../src/delivery/delivery-record.ts';
import { staleness } from '../../src/delivery/lease.ts';
import type { StoredDelivery } from '../../src/delivery/ports.ts';
import { readAccountStatus, UNFINISHED_STATUSES } from '../../src/firestore/firestore-account-status.ts';
import { deliveryPath } from '../../src/firestore/firestore-layout.ts';
import { COMMON_HELP, parseCommand, parseSince } from '../cli-args.ts';
import { colourStatus } from '../cli-deliveries.ts';
import { dim, out, printJson, shortTime, table, usageError } from '../cli-output.ts';
import type { CommandContext } from './command.ts';

const DEFAULT_SINCE = '1h';

export const STATUS_HELP = `hookshape status --account A [--since 1h] — an account's deliveries at a glance

Counts the account's deliveries created in the last hour (or --since), across all its webhooks, by their
status now: pending, succeeded, retrying, failed, invalid. Then shows its oldest pending and oldest
retrying delivery, of any age, with how old it is and whether it has a live owner (an attempt in flight
or a retry due); one without is what hookshape repair moves on.

Counting uses Firestore count() aggregations (one per status), so no record is read for the counts.

Options:
  --account A    the account (required)
  --since T      count deliveries created in the last T (30m, 1h, 7d) or since an ISO date (default ${DEFAULT_SINCE})

Exit code: 0 ok (whatever the counts), 2 usage error, 3 cannot reach the emulators or Google Cloud.

${COMMON_HELP}`;

/** 45s, 12m 05s, 3h 02m, 2d 4h: how long ago, to the precision a person reads. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function oldestSummary(record: StoredDelivery | null, now: Date, timing: Parameters<typeof staleness>[2]) {
  if (!record) return null;
  const owner = staleness(record, now, timing);
  return {
    path: deliveryPath(record.accountId, record.webhookId, record.eventId),
    webhookId: record.webhookId,
    eventId: record.eventId,
    eventType: record.eventType,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ageSeconds: Math.floor((now.getTime() - record.createdAt.getTime()) / 1000),
    attempts: record.attempts.length + (record.attemptsDropped ?? 0),
    nextAttemptAt: record.nextAttemptAt,
    lastError: record.lastError,
    stale: owner.stale,
    reason: owner.reason,
  };
}

export async function statusCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('status', args, { account: { type: 'string' }, since: { type: 'string' } });
  if (values.help) return context.help(STATUS_HELP);
  if (positionals.length > 0) throw usageError(`status takes no arguments, got '${positionals.join(' ')}' (the account is --account A)`, 'status');
  const accountId = values.account?.trim();
  if (!accountId) throw usageError('which account? give --account A', 'status');
  if (accountId.includes('/')) throw usageError(`--account is an account id, not a path, got '${accountId}'`, 'status');
  const sinceText = values.since ?? DEFAULT_SINCE;
  const since = parseSince(sinceText, 'status')!;

  const environment = context.environment(values.project, 'status');
  const db = await environment.firestore();
  const status = await environment.call('read the delivery log', () => readAccountStatus(db, accountId, since));
  const now = new Date();
  const total = DeliveryStatus.reduce((sum, name) => sum + status.counts[name], 0);
  const oldest = Object.fromEntries(UNFINISHED_STATUSES.map((name) => [name, oldestSummary(status.oldest[name], now, environment.config.timing)]));

  if (values.json) {
    printJson({ account: accountId, since, counts: status.counts, total, oldest });
    return 0;
  }
  const window = /^\d/.test(sinceText) && !/^\d{4}-/.test(sinceText) ? `the last ${sinceText.trim()}` : `since ${shortTime(since)}`;
  out(`account ${accountId}: deliveries created in ${window}${window.startsWith('the last') ? ` (since ${shortTime(since)})` : ''}, by status now`);
  out(table(['STATUS', 'DELIVERIES'], [...DeliveryStatus.map((name) => [colourStatus(name), String(status.counts[name])]), ['total', String(total)]]));
  out();
  for (const name of UNFINISHED_STATUSES) {
    const record = oldest[name];
    const label = `oldest ${name}:`.padEnd(17);
    if (!record) {
      out(`${label}none`);
      continue;
    }
    out(`${label}${record.path}`);
    out(`${' '.repeat(17)}created ${shortTime(record.createdAt)} (${formatAge(record.ageSeconds * 1000)} ago), ${record.attempts} attempt(s); ${record.reason}`);
    if (record.stale) out(`${' '.repeat(17)}no live owner: hookshape repair moves it on`);
  }
  out(dim(`\nlist them with: hookshape deliveries ${accountId}/<webhook> --status failed --since ${sinceText.trim()}`));
  return 0;
}
