import { FirestoreDeliveryLog } from '../../src/firestore/firestore-delivery-log.ts';
import { FirestoreWebhookStore } from '../../src/firestore/firestore-webhook-store.ts';
import { systemClock } from '../../src/core/ports.ts';
import { DEFAULT_REPAIR_LIMIT, repairDeliveries, type RepairItem } from '../../src/delivery/repair.ts';
import type { RetryScheduler } from '../../src/delivery/ports.ts';
import { createErrorTextLogger } from '../../src/log/logger.ts';
import { COMMON_HELP, parseCommand, parsePositiveInteger } from '../cli-args.ts';
import { dim, note, out, printJson, table, usageError } from '../cli-output.ts';
import { Progress } from '../cli-progress.ts';
import type { CommandContext } from './command.ts';

export const REPAIR_HELP = `hookshape repair [--dry-run] [--limit N] — move on deliveries that lost their owner

Runs the repair sweep once, as the scheduled repair function does: finds deliveries, across every
account, that are pending or retrying with no live owner — a claim or an attempt in flight older than
DELIVERY_LEASE_SECONDS (the instance died), or a retry overdue by RETRY_OVERDUE_SECONDS (its task was
lost) — and moves each on: an attempt left in flight is recorded as outcome unknown, then the retry
policy decides (the next attempt is enqueued on the retry queue, due now or after its delay), or the
delivery ends (succeeded if an attempt already got a 2xx; failed/stalled after 3 takeovers). Nothing is
sent by this command: the retry worker sends.

Options:
  --dry-run        list what would be repaired; change nothing
  --limit N        records of each kind (pending, retrying) looked at, oldest first (default ${DEFAULT_REPAIR_LIMIT})

Repairing needs RETRY_WORKER_URL (and TASKS_INVOKER_SERVICE_ACCOUNT in Google Cloud), as replay does.

Exit code: 0 nothing failed, 1 a record could not be repaired, 2 usage error, 3 cannot reach the
emulators or Google Cloud.

${COMMON_HELP}`;

/** The sweep's own log lines: errors go to stderr, the rest is in the summary. */
const cliLogger = createErrorTextLogger(note);

export async function repairCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('repair', args, {
    'dry-run': { type: 'boolean' },
    limit: { type: 'string' },
  });
  if (values.help) return context.help(REPAIR_HELP);
  if (positionals.length > 0) throw usageError(`repair takes no arguments, got '${positionals.join(' ')}'`, 'repair');
  const dryRun = values['dry-run'] === true;
  const limit = parsePositiveInteger(values.limit, 'limit', DEFAULT_REPAIR_LIMIT, 1000, 'repair');

  const environment = context.environment(values.project, 'repair');
  const db = await environment.firestore();
  const log = new FirestoreDeliveryLog(db);
  const noScheduler: RetryScheduler = {
    schedule: async () => {
      throw new Error('a dry run enqueues nothing');
    },
  };
  const scheduler = dryRun ? noScheduler : await environment.scheduler();
  let progress: Progress | undefined;
  const summary = await environment.call('run the repair sweep', () =>
    repairDeliveries(
      { deliveries: log, finder: log, webhooks: new FirestoreWebhookStore(db), scheduler, clock: systemClock, retry: environment.config.retry, timing: environment.config.timing, logger: cliLogger },
      {
        dryRun,
        limit,
        onProgress: values.json
          ? undefined
          : (_done, total, item) => {
              progress ??= new Progress(total, dryRun ? 'checking' : 'repairing');
              progress.step(`${item.path}: ${describe(item)}`);
            },
      },
      cliLogger,
    ),
  );
  if (values.json) {
    printJson(summary);
  } else {
    const acted = summary.items.filter((item) => item.now !== 'skipped');
    if (acted.length) out(table(['DELIVERY', 'WAS', 'NOW', 'WHY'], acted.map((item) => [item.path, item.was, item.now, item.note ? `${item.reason}; ${item.note}` : item.reason])));
    const ended = Object.entries(summary.ended).map(([status, count]) => `${count} ${status}`).join(', ');
    out(
      dryRun
        ? `dry run: ${summary.examined} examined, ${summary.stale} would be repaired; nothing changed`
        : `${summary.examined} examined, ${summary.stale} without a live owner, ${summary.repaired} repaired${ended ? ` (ended: ${ended})` : ''}, ${summary.errors} error(s)`,
    );
    if (summary.more) note(dim(`the limit of ${limit} was reached: run again (or raise --limit) for the rest`));
  }
  return summary.errors > 0 ? 1 : 0;
}

function describe(item: RepairItem): string {
  if (item.now === 'skipped') return `left alone (${item.note ?? item.reason})`;
  if (item.now === 'would repair') return `would repair (${item.reason})`;
  if (item.now === 'error') return `could not repair: ${item.note ?? ''}`;
  return `${item.was} → ${item.now} (${item.reason})`;
}
