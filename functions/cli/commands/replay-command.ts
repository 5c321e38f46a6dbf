import { parseWebhookConfig } from '../../src/webhooks/webhook-config.ts';
import { staleness } from '../../src/delivery/lease.ts';
import type { DeliveryKey, StoredDelivery } from '../../src/delivery/ports.ts';
import { startReplay, undoReplay } from '../../src/delivery/transitions.ts';
import { FirestoreDeliveryLog } from '../../src/firestore/firestore-delivery-log.ts';
import { COMMON_HELP, parseCommand, parsePositiveInteger, parseSince, parseStatus, parseWebhookRef } from '../cli-args.ts';
import { deliveriesTable, describeDelivery, isFinal, waitForDeliveries } from '../cli-deliveries.ts';
import { isUnreachable } from '../cli-environment.ts';
import { CliError, EXIT, checkFailed, dim, note, out, printJson, usageError } from '../cli-output.ts';
import { Progress } from '../cli-progress.ts';
import { describeState, requireStoredWebhook, webhookState } from '../cli-webhooks.ts';
import type { CommandContext } from './command.ts';

export const REPLAY_HELP = `hookshape replay <account>/<webhook> <eventId>
hookshape replay <account>/<webhook> --status failed [--since 24h] [--dry-run] — send deliveries again

Starts a new attempt series for finished deliveries, and for pending or retrying ones that are stale
(no live owner: a claim or an attempt in flight past DELIVERY_LEASE_SECONDS, or a retry overdue by
RETRY_OVERDUE_SECONDS — the repair sweep's rule; an attempt left in flight is recorded as outcome
unknown): the record keeps its attempts, gets { at, previousStatus, previousErrorCode } appended to its
replays, becomes retrying with its next attempt due now, and a retry task is enqueued on the retry queue. The retry worker in the cloud then sends it, with the
current webhook document and secrets, from the same addresses and with the same logging as any
delivery (and the usual retries and backup). Fix the webhook or the receiver first.

Options:
  --status S       replay the deliveries with this status: failed, invalid or succeeded; or pending
                   or retrying (only the stale ones are replayed)
  --since T        with --status: only those created in the last T (30m, 1h, 24h, 7d) or since a date
  --limit N        with --status: at most N, newest first (default 100)
  --dry-run        list what would be replayed; change nothing
  --wait           wait for the replayed deliveries to finish and print their outcome
  --timeout S      with --wait: how long (default 120)

Sending needs RETRY_WORKER_URL (and TASKS_INVOKER_SERVICE_ACCOUNT in Google Cloud): the local stack
provides them; in the cloud take them from terraform output.

Exit code: 0 all replayed (and with --wait, delivered), 1 something was not, 2 usage error, 3 cannot
reach the emulators or Google Cloud.

${COMMON_HELP}`;

interface Replayed {
  eventId: string;
  previousStatus: string;
  attempt: number;
  series: number;
}

export async function replayCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('replay', args, {
    status: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (values.help) return context.help(REPLAY_HELP);
  if (positionals.length < 1 || positionals.length > 2) throw usageError('give <account>/<webhook> and an event id, or <account>/<webhook> --status S', 'replay');
  const { accountId, webhookId } = parseWebhookRef(positionals[0], 'replay');
  const eventId = positionals[1];
  const status = parseStatus(values.status, 'replay', ['failed', 'invalid', 'succeeded', 'pending', 'retrying']);
  if (eventId !== undefined && status) throw usageError('give either an event id or --status, not both', 'replay');
  if (eventId === undefined && !status) throw usageError('which deliveries? give an event id, or --status failed (with --since 24h...)', 'replay');
  if (eventId !== undefined && (values.since !== undefined || values.limit !== undefined)) throw usageError('--since and --limit go with --status', 'replay');
  const since = parseSince(values.since, 'replay');
  const limit = parsePositiveInteger(values.limit, 'limit', 100, 10_000, 'replay');
  const timeoutSeconds = parsePositiveInteger(values.timeout, 'timeout', 120, 3600, 'replay');
  const dryRun = values['dry-run'] === true;

  const environment = context.environment(values.project, 'replay');
  const stored = await requireStoredWebhook(environment, accountId, webhookId);
  const state = webhookState(accountId, webhookId, stored);
  // A rate-limited webhook's replays wait in its own queue like every delivery of it.
  const parsedWebhook = parseWebhookConfig(accountId, webhookId, stored);
  const rateLimit = parsedWebhook.ok ? parsedWebhook.webhook.rateLimit : undefined;
  if (!values.json) note(describeState(state));
  const blocked = !state.enabled
    ? `${state.path} is disabled (enabled: false): the retry worker would end every replay as failed. Set enabled to true first.`
    : state.validation.state === 'failed'
      ? `${state.path} failed its validation: replays would be invalid. Fix the document first (hookshape validate ${accountId}/${webhookId}).`
      : undefined;
  if (blocked && !dryRun) throw checkFailed(blocked);

  const log = new FirestoreDeliveryLog(await environment.firestore());
  const timing = environment.config.timing;
  let candidates: StoredDelivery[];
  if (eventId !== undefined) {
    const record = await environment.call('read the delivery log', () => log.get({ accountId, webhookId, eventId }));
    if (!record) throw checkFailed(`no delivery of event ${eventId} for ${state.path}`);
    const stale = staleness(record, new Date(), timing);
    if ((record.status === 'pending' || record.status === 'retrying') && !stale.stale) throw checkFailed(`delivery ${eventId} is ${record.status} (${stale.reason}): it is already being delivered; nothing to replay`);
    candidates = [record];
  } else {
    const found = await environment.call('read the delivery log', () => log.list(accountId, webhookId, { status: status!, ...(since ? { since } : {}), limit: limit + 1 }));
    if (found.length > limit) note(`more than ${limit} deliveries match: only the newest ${limit} (raise --limit, or narrow --since)`);
    candidates = found.slice(0, limit);
    if (status === 'pending' || status === 'retrying') {
      const now = new Date();
      const live = candidates.filter((record) => !staleness(record, now, timing).stale);
      if (live.length) note(`${live.length} ${status} deliver${live.length === 1 ? 'y is' : 'ies are'} still being delivered: left alone`);
      candidates = candidates.filter((record) => staleness(record, now, timing).stale);
    }
  }

  if (dryRun) {
    if (values.json) printJson({ dryRun: true, webhook: state.path, blocked: blocked ?? null, deliveries: candidates.map((record) => ({ eventId: record.eventId, eventType: record.eventType, status: record.status, createdAt: record.createdAt, attempts: record.attempts.length + (record.attemptsDropped ?? 0) })) });
    else {
      if (blocked) note(`note: ${blocked}`);
      out(candidates.length ? `${deliveriesTable(candidates)}\n${dim(`\ndry run: would replay ${candidates.length} deliver${candidates.length === 1 ? 'y' : 'ies'}; nothing changed`)}` : 'dry run: nothing to replay');
    }
    return 0;
  }
  if (candidates.length === 0) {
    if (values.json) printJson({ replayed: [], skipped: [] });
    else out('nothing to replay');
    return 0;
  }

  const scheduler = await environment.scheduler();
  const progress = new Progress(candidates.length, 'replaying');
  const replayed: Replayed[] = [];
  const skipped: Array<{ eventId: string; reason: string }> = [];
  let unreachable: string | undefined;
  for (const candidate of candidates) {
    const key: DeliveryKey = { accountId, webhookId, eventId: candidate.eventId };
    const now = new Date();
    const start = await environment.call('start the replay', () => log.modify(key, startReplay(now, timing)));
    if (!start.started) {
      skipped.push({ eventId: key.eventId, reason: start.reason });
      progress.step(`${key.eventId}: skipped: ${start.reason}`);
      continue;
    }
    try {
      await scheduler.schedule({ ...key, attempt: start.next.number, series: start.next.series }, now, rateLimit);
    } catch (error) {
      // Without its task a replayed finished record would wait forever: put back as it was. A stale
      // record's replay stands (undoReplay), and the repair sweep enqueues it.
      const undone = await environment.call('undo the replay', () => log.modify(key, undoReplay(start.next.series, new Date())));
      const reason = `could not enqueue the retry task: ${(error as Error).message.split('\n')[0]}${undone ? '' : ' (the replay stands: the repair sweep enqueues its attempt)'}`;
      if (isUnreachable(error)) unreachable = reason;
      skipped.push({ eventId: key.eventId, reason });
      progress.step(`${key.eventId}: ${reason}`);
      if (unreachable) break;
      continue;
    }
    const previousStatus = start.record.replays?.at(-1)?.previousStatus ?? candidate.status;
    replayed.push({ eventId: key.eventId, previousStatus, attempt: start.next.number, series: start.next.series });
    progress.step(`${key.eventId}: ${previousStatus} → retrying (attempt #${start.next.number}, replay ${start.next.series})`);
  }
  if (unreachable) throw new CliError(EXIT.unreachable, `cannot reach Cloud Tasks in ${environment.where}: ${unreachable}`);

  let outcomes: Array<StoredDelivery | undefined> = [];
  let timedOut = false;
  if (values.wait && replayed.length > 0) {
    if (!values.json) note(dim(`waiting up to ${timeoutSeconds} s for the retry worker...`));
    ({ records: outcomes, timedOut } = await waitForDeliveries(environment, replayed.map((item) => ({ accountId, webhookId, eventId: item.eventId })), isFinal, timeoutSeconds * 1000));
  }
  const allDelivered = outcomes.every((record) => record?.status === 'succeeded');
  if (values.json) {
    printJson({ webhook: state.path, replayed, skipped, ...(values.wait ? { timedOut, deliveries: outcomes } : {}) });
  } else {
    out(`replayed ${replayed.length} of ${candidates.length} deliver${candidates.length === 1 ? 'y' : 'ies'} of ${state.path}${replayed.length ? ': the retry worker sends them now' : ''}`);
    for (const item of skipped) out(`  not replayed: ${item.eventId}: ${item.reason}`);
    for (const record of outcomes) if (record) out(describeDelivery(record));
    if (timedOut) note(`not all finished within ${timeoutSeconds} s`);
    if (!values.wait && replayed.length) out(dim(`follow them with: hookshape deliveries ${accountId}/${webhookId}`));
  }
  return skipped.length === 0 && replayed.length > 0 && (!values.wait || (allDelivered && !timedOut)) ? 0 : 1;
}
