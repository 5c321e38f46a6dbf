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
import { hasEnded, type DeliveryStatus } from './delivery-record.ts';
import { staleness } from './lease.ts';
import type { StaleCursors, StaleDeliveryFinder, StaleQuery, StoredDelivery } from './ports.ts';
import type { RecordingDeps } from './run-attempts.ts';

export interface RepairDeps extends RecordingDeps {
  logger: Logger;
  finder: StaleDeliveryFinder;
  webhooks: WebhookStore;
}

export interface RepairOptions {
  /** List what would be done; change nothing. */
  dryRun: boolean;
  /** Records of each kind (pending, retrying) in a page of the queries, oldest first. */
  limit: number;
  /**
   * Pages one run reads at most (default REPAIR_PAGES): past a page that was full, the run goes on with
   * the next, so records that are overdue but still queued (a rate-limited webhook's backlog) do not
   * hide the ones behind them.
   */
  pages?: number;
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
  /** Pages of the queries read. */
  pages: number;
  /** Of those, without a live owner (a retry whose task is still queued has one: its queue). */
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
export const REPAIR_PAGES = 5;

const pathOf = (record: StoredDelivery) => `accounts/${record.accountId}/webhooks/${record.webhookId}/deliveries/${record.eventId}`;

export async function repairDeliveries(deps: RepairDeps, options: RepairOptions, logger: Logger): Promise<RepairSummary> {
  const now = deps.clock.now();
  const { leaseMs, overdueMs } = deps.timing;
  const summary: RepairSummary = { dryRun: options.dryRun, examined: 0, pages: 0, stale: 0, repaired: 0, ended: {}, errors: 0, more: false, items: [] };
  const maxPages = Math.max(1, options.pages ?? REPAIR_PAGES);
  const query: StaleQuery = {
    pendingBefore: new Date(now.getTime() - leaseMs),
    // An attempt in flight is stale after the lease, a waiting retry only after overdueMs: query by the
    // shorter, decide by staleness().
    dueBefore: new Date(now.getTime() - Math.min(leaseMs, overdueMs)),
    limit: options.limit,
  };
  let after: StaleCursors | undefined;
  for (;;) {
    const page = await deps.finder.candidates(after ? { ...query, after } : query);
    summary.pages += 1;
    summary.examined += page.records.length;
    for (const record of page.records) await repairOne(deps, options, now, record, summary, logger);
    if (!page.next.pending && !page.next.retrying) break;
    if (summary.pages >= maxPages) {
      summary.more = true;
      break;
    }
    after = page.next;
  }
  // A run that found nothing is DEBUG: the local stack sweeps every few seconds.
  const severity = summary.errors > 0 ? 'ERROR' : summary.repaired > 0 ? 'NOTICE' : summary.stale > 0 ? 'INFO' : 'DEBUG';
  logger.log(severity, `repair sweep${options.dryRun ? ' (dry run)' : ''}: ${summary.examined} examined${summary.pages > 1 ? ` in ${summary.pages} pages` : ''}, ${summary.stale} stale, ${summary.repaired} repaired, ${summary.errors} error(s)${summary.more ? '; more remain for the next run' : ''}`, {
    examined: summary.examined,
    stale: summary.stale,
    repaired: summary.repaired,
    errors: summary.errors,
    dryRun: options.dryRun,
  });
  return summary;
}

/** One record of a page: skipped when it has a live owner, listed in a dry run, moved on otherwise. */
async function repairOne(deps: RepairDeps, options: RepairOptions, now: Date, record: StoredDelivery, summary: RepairSummary, logger: Logger): Promise<void> {
  const path = pathOf(record);
  const stale = staleness(record, now, deps.timing);
  let item: RepairItem;
  if (!stale.stale) {
    item = { path, was: record.status, reason: stale.reason, now: 'skipped' };
  } else if (options.dryRun) {
    summary.stale += 1;
    item = { path, was: record.status, reason: stale.reason, now: 'would repair' };
  } else {
    const trace = continueTrace(record.traceId);
    const itemLogger = logger.child({ accountId: record.accountId, webhookId: record.webhookId, eventId: record.eventId, deliveryId: `${record.webhookId}/${record.eventId}`, ...(trace ? traceFields(trace) : {}) });
    try {
      const stored = await deps.webhooks.get(record.accountId, record.webhookId);
      const parsed = stored ? parseWebhookConfig(record.accountId, record.webhookId, stored.data) : undefined;
      const outcome = await recoverDelivery(deps, record, parsed?.ok === true ? parsed.webhook : undefined, `repair sweep: ${stale.reason}`, itemLogger);
      // A retry late only because its queue is throttled has an owner, its queue: not stale.
      if (!outcome.queued) summary.stale += 1;
      item = { path, was: record.status, reason: stale.reason, now: outcome.status, ...(outcome.note ? { note: outcome.note } : {}) };
      if (outcome.status !== 'skipped') {
        summary.repaired += 1;
        if (hasEnded(outcome.status)) summary.ended[outcome.status] = (summary.ended[outcome.status] ?? 0) + 1;
      }
    } catch (error) {
      // One record must not stop the sweep; a passing fault is left for the next run as well.
      summary.stale += 1;
      summary.errors += 1;
      itemLogger.log(classifyFailure(error) === 'transient' ? 'WARNING' : 'ERROR', `repair sweep could not recover ${path}: ${errorMessage(error)}`, { stack: (error as Error)?.stack ?? null });
      item = { path, was: record.status, reason: stale.reason, now: 'error', note: errorMessage(error) };
    }
  }
  summary.items.push(item);
  options.onProgress?.(summary.items.length, summary.examined, item);
}
