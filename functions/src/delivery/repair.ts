/**
 * The repair sweep: recovery that does not wait for Pub/Sub or Cloud Tasks to call again. It finds
 * deliveries `pending` or `retrying` without a live owner (delivery/lease.ts staleness) and moves each
 * forward by the same rules as a takeover (recoverDelivery): the next attempt is enqueued, or the
 * delivery ends. Run on a schedule in the cloud, every few seconds by the local stack, and by hand with
 * `hookshape repair`.
 */
import { classifyFailure, errorMessage } from '../core/failures.ts';
import type { Logger } from '../log/logger.ts';
import { continueTrace, traceFields } from '../log/trace.ts';
import { parseWebhookConfig } from '../webhooks/webhook-config.ts';
import type { WebhookStore } from '../webhooks/webhook-store.ts';
import { recoverDelivery } from './deliver.ts';
import type { DeliveryStatus } from './delivery-record.ts';
import { staleness } from './lease.ts';
import type { StaleDeliveryFinder, StoredDelivery } from './ports.ts';
import type { RecordingDeps } from './run-attempts.ts';

export interface RepairDeps extends RecordingDeps {
  logger: Logger;
  finder: StaleDeliveryFinder;
  webhooks: WebhookStore;
}

export interface RepairOptions {
  /** List what would be done; change nothing. */
  dryRun: boolean;
  /** Records of each kind (pending, retrying) looked at in one run, oldest first. */
  limit: number;
  /** Called after each record, for a progress line. */
  onProgress?: (done: number, total: number, item: RepairItem) => void;
}

export interface RepairItem {
  path: string;
  /** The status found. */
  was: DeliveryStatus;
  reason: string;
  /** What the repair did: the new status, `skipped` (live, or moved on meanwhile), `error`. */
  now: DeliveryStatus | 'skipped' | 'error' | 'would repair';
  note?: string;
}

export interface RepairSummary {
  dryRun: boolean;
  /** Records the queries returned. */
  examined: number;
  /** Of those, without a live owner. */
  stale: number;
  repaired: number;
  /** Final states reached by the repair, by status (a recovery may end a delivery). */
  ended: Partial<Record<DeliveryStatus, number>>;
  /** Recoveries that failed; they are found again by the next run. */
  errors: number;
  /** The limit was reached for a kind: more may wait for the next run. */
  more: boolean;
  items: RepairItem[];
}

export const DEFAULT_REPAIR_LIMIT = 200;

const pathOf = (record: StoredDelivery) => `accounts/${record.accountId}/webhooks/${record.webhookId}/deliveries/${record.eventId}`;

export async function repairDeliveries(deps: RepairDeps, options: RepairOptions, logger: Logger): Promise<RepairSummary> {
  const now = deps.clock.now();
  const { leaseMs, overdueMs } = deps.timing;
  const candidates = await deps.finder.candidates({
    pendingBefore: new Date(now.getTime() - leaseMs),
    // An attempt in flight is stale after the lease, a waiting retry only after overdueMs: query by the
    // shorter, decide by staleness().
    dueBefore: new Date(now.getTime() - Math.min(leaseMs, overdueMs)),
    limit: options.limit,
  });
  const summary: RepairSummary = { dryRun: options.dryRun, examined: candidates.length, stale: 0, repaired: 0, ended: {}, errors: 0, more: false, items: [] };
  summary.more = ['pending', 'retrying'].some((status) => candidates.filter((record) => record.status === status).length >= options.limit);
  let done = 0;
  for (const record of candidates) {
    const path = pathOf(record);
    const stale = staleness(record, now, deps.timing);
    let item: RepairItem;
    if (!stale.stale) {
      item = { path, was: record.status, reason: stale.reason, now: 'skipped' };
    } else if (options.dryRun) {
      summary.stale += 1;
      item = { path, was: record.status, reason: stale.reason, now: 'would repair' };
    } else {
      summary.stale += 1;
      const trace = continueTrace(record.traceId);
      const itemLogger = logger.child({ accountId: record.accountId, webhookId: record.webhookId, eventId: record.eventId, deliveryId: `${record.webhookId}/${record.eventId}`, ...(trace ? traceFields(trace) : {}) });
      try {
        const stored = await deps.webhooks.get(record.accountId, record.webhookId);
        const parsed = stored ? parseWebhookConfig(record.accountId, record.webhookId, stored.data) : undefined;
        const outcome = await recoverDelivery(deps, record, parsed?.ok === true ? parsed.webhook : undefined, `repair sweep: ${stale.reason}`, itemLogger);
        item = { path, was: record.status, reason: stale.reason, now: outcome.status, ...(outcome.note ? { note: outcome.note } : {}) };
        if (outcome.status !== 'skipped') {
          summary.repaired += 1;
          if (outcome.status !== 'pending' && outcome.status !== 'retrying') summary.ended[outcome.status] = (summary.ended[outcome.status] ?? 0) + 1;
        }
      } catch (error) {
        // One record must not stop the sweep; a passing fault is left for the next run as well.
        summary.errors += 1;
        itemLogger.log(classifyFailure(error) === 'transient' ? 'WARNING' : 'ERROR', `repair sweep could not recover ${path}: ${errorMessage(error)}`, { stack: (error as Error)?.stack ?? null });
        item = { path, was: record.status, reason: stale.reason, now: 'error', note: errorMessage(error) };
      }
    }
    summary.items.push(item);
    done += 1;
    options.onProgress?.(done, candidates.length, item);
  }
  // A run that found nothing is DEBUG: the local stack sweeps every few seconds.
  const severity = summary.errors > 0 ? 'ERROR' : summary.repaired > 0 ? 'NOTICE' : summary.stale > 0 ? 'INFO' : 'DEBUG';
  logger.log(severity, `repair sweep${options.dryRun ? ' (dry run)' : ''}: ${summary.examined} examined, ${summary.stale} stale, ${summary.repaired} repaired, ${summary.errors} error(s)${summary.more ? '; more remain for the next run' : ''}`, {
    examined: summary.examined,
    stale: summary.stale,
    repaired: summary.repaired,
    errors: summary.errors,
    dryRun: options.dryRun,
  });
  return summary;
}
