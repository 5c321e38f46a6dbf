import type { Clock } from '../core/ports.ts';
import { errorMessage } from '../core/failures.ts';
import type { EventMessage } from '../events/event-message.ts';
import type { OperationsPublisher } from '../events/operational-events.ts';
import type { Logger } from '../log/logger.ts';
import { childSpan, formatTraceparent, type TraceContext } from '../log/trace.ts';
import { buildRequest, type OutgoingRequest } from '../render/build-request.ts';
import type { TemplateEngine } from '../render/template-engine.ts';
import { classifyOutcome, type Outcome } from '../send/classify-outcome.ts';
import { DESTINATION_REFUSED, TOKEN_REJECTED, type HttpSender, type SendResult } from '../send/http-sender.ts';
import type { TokenSource } from '../send/oauth2-tokens.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';
import { boundAttempts } from './attempt-list.ts';
import { attemptRecord, recordedErrorText, type AttemptRecord, type DeliveryStatus } from './delivery-record.ts';
import type { LeaseTiming } from './lease.ts';
import { continuation } from './next-attempt.ts';
import { sendAuthorized } from './send-authorized.ts';
import type { ClaimToken, DeliveryKey, DeliveryLog, DeliveryUpdate, InFlightAttempt, PlannedAttempt, RetryScheduler, StoredDelivery, WebhookHealthStore } from './ports.ts';
import { retryPolicy, type RetryPolicy, type RetrySettings } from './retry-policy.ts';

export interface DeliveryDeps {
  engine: TemplateEngine;
  sender: HttpSender;
  deliveries: DeliveryLog;
  scheduler: RetryScheduler;
  clock: Clock;
  logger: Logger;
  retry: RetrySettings;
  timing: LeaseTiming;
  /** Bearer tokens of oauth2 webhooks, kept per instance (send/oauth2-tokens.ts); needed only by those. */
  tokens?: TokenSource;
  /** Auto-disable after consecutive failed deliveries; absent (or 0): never. */
  autoDisable?: { afterFailures: number; health: WebhookHealthStore };
  /** Where operational events go (a delivery failed for good, a webhook disabled); absent: nowhere. */
  operations?: OperationsPublisher;
}

/** What recording a step and scheduling what follows need (the repair sweep and the CLI have no sender). */
export type RecordingDeps = Pick<DeliveryDeps, 'deliveries' | 'scheduler' | 'clock' | 'retry' | 'timing' | 'operations'>;

/**
 * What one run of a delivery has done so far, kept outside the steps so that when a step throws, the
 * caller still knows which attempts left and what they got (deliver.ts records them).
 */
export interface Progress {
  /** The record's status while the run works on it (`pending` first, `retrying` in the worker). */
  status: Extract<DeliveryStatus, 'pending' | 'retrying'>;
  attempts: AttemptRecord[];
  attemptsDropped: number;
  takeovers: number;
  repairs: number;
  /** The attempt whose request may be leaving now: set right before the send, cleared with its answer. */
  inFlight: InFlightAttempt | undefined;
  /** The current series' first attempt (recover.ts seriesStart; absent: 1): only its 2xx counts as delivered. */
  seriesFrom?: number | undefined;
  /** The account's secret values once loaded: an internal error's text is redacted with them. */
  secretValues?: readonly string[] | undefined;
  /** The in-flight mark this run holds on the record; its writes are conditioned on it (none: plain writes). */
  claim?: ClaimToken | undefined;
  /**
   * The dispatcher's delivery before its first write: no record exists yet (the event claim stands for
   * it), and the first write creates it from this seed (writeStep). Cleared once written.
   */
  seed?: StoredDelivery | undefined;
  /** The span of this run (its trace id is the record's); each attempt is a child of it. */
  trace?: TraceContext | undefined;
}

export const deliveryKey = (record: Pick<DeliveryKey, 'accountId' | 'webhookId' | 'eventId'>): DeliveryKey => ({
  accountId: record.accountId,
  webhookId: record.webhookId,
  eventId: record.eventId,
});

/**
 * Writes a step of this run: the first write of a dispatcher's delivery creates the record (no record
 * existed: the event claim stood for it), later ones update it, conditioned on the run's claim. False,
 * and nothing written, when a takeover wrote the record first (the create found it) or moved it on.
 */
export async function writeStep(deps: Pick<DeliveryDeps, 'deliveries'>, key: DeliveryKey, state: DeliveryUpdate, progress: Progress): Promise<boolean> {
  if (progress.seed) {
    const created = await deps.deliveries.claim({ ...progress.seed, ...state });
    if (!created.created) return false;
    progress.seed = undefined;
    return true;
  }
  return deps.deliveries.update(key, state, progress.claim);
}

/** The record's new state from the progress so far. */
export function stateOf(progress: Progress, now: Date, rest: Pick<DeliveryUpdate, 'status' | 'lastError' | 'errorCode' | 'nextAttemptAt' | 'next'> & { inFlight?: DeliveryUpdate['inFlight'] }): DeliveryUpdate {
  const bounded = boundAttempts(progress.attempts, progress.attemptsDropped);
  return { inFlight: null, ...rest, ...bounded, takeovers: progress.takeovers, repairs: progress.repairs, updatedAt: now, ...(progress.trace ? { traceId: progress.trace.traceId } : {}) };
}

/**
 * The log entry of an attempt whose answer is in hand. A fault while building the entry (a bug in
 * redaction, say) must not lose what the receiver answered: a minimal entry is kept instead.
 */
function recordAttempt(plan: PlannedAttempt, startedAt: Date, request: OutgoingRequest, sent: SendResult, now: Date, policy: RetryPolicy, note: string | undefined, logger: Logger): { entry: AttemptRecord; outcome: Outcome } {
  let outcome: Outcome;
  try {
    outcome = classifyOutcome(sent, now, policy.retryOn);
    if (note) outcome = { ...outcome, summary: `${outcome.summary} (${note})` };
  } catch (error) {
    logger.log('ERROR', `could not classify the answer of attempt ${plan.number}: ${errorMessage(error)}`, { stack: (error as Error).stack ?? null });
    const ok = sent.kind === 'response' && sent.status >= 200 && sent.status < 300;
    outcome = ok ? { result: 'succeeded', summary: `HTTP ${sent.status}` } : { result: 'failed', summary: sent.kind === 'response' ? `HTTP ${sent.status}` : sent.code };
  }
  try {
    return { entry: attemptRecord({ ...plan, startedAt, request, sent, outcome }), outcome };
  } catch (error) {
    logger.log('ERROR', `could not record the details of attempt ${plan.number}: ${errorMessage(error)}`, { stack: (error as Error).stack ?? null });
    const entry: AttemptRecord = {
      number: plan.number,
      target: plan.target,
      attemptOfTarget: plan.attemptOfTarget,
      startedAt,
      durationMs: sent.durationMs,
      request: null,
      response: sent.kind === 'response' ? { status: sent.status, headers: {}, body: null, bodyBytes: sent.body.length, bodyTruncated: true } : null,
      error: sent.kind === 'error' ? { code: sent.code, message: 'the error message could not be recorded' } : null,
      outcome: outcome.result,
      summary: recordedErrorText(`${outcome.summary} (the attempt's details could not be recorded: internal error)`, request.secretValues),
    };
    return { entry, outcome };
  }
}

/** The headers without any spelling of `name` (header names are case-insensitive). */
function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key.toLowerCase() !== name));
}

/**
 * Sends the planned attempt — which the caller has already marked in flight on the record — and, when
 * the primary fails for good and a backup exists, marks and sends the backup's first attempt right
 * after. Returns the record's new state; the caller writes it and schedules the retry. A throw leaves
 * `progress` saying what was sent.
 */
export async function runAttempts(
  deps: DeliveryDeps,
  key: DeliveryKey,
  event: EventMessage,
  webhook: WebhookConfig,
  secrets: Record<string, string>,
  planned: PlannedAttempt,
  progress: Progress,
  logger: Logger,
): Promise<DeliveryUpdate> {
  let plan = planned;
  const policy = retryPolicy(deps.retry, webhook);
  progress.inFlight = undefined; // nothing has left yet
  const runLogger = logger;
  for (;;) {
    // Each attempt is a span of the run's trace: its log lines carry its span id, and a webhook with
    // `traceparent: true` sends it to the receiver (the parent of whatever the receiver traces).
    const span = progress.trace ? childSpan(progress.trace) : undefined;
    logger = span ? runLogger.child({ spanId: span.spanId }) : runLogger;
    const built = await buildRequest(webhook, event, secrets, deps.engine, plan.target, deps.clock.now());
    if (!built.ok) {
      // The message may quote what rendered (a body line, the URL), secrets included.
      const lastError = recordedErrorText(`webhook ${webhook.id}: ${built.error.message}`, Object.values(secrets));
      logger.log('WARNING', 'delivery invalid: the webhook does not render to a valid request', { field: built.error.field, error: lastError });
      progress.inFlight = undefined;
      return stateOf(progress, deps.clock.now(), { status: 'invalid', errorCode: 'invalid_webhook', lastError, nextAttemptAt: null, next: null });
    }
    const startedAt = deps.clock.now();
    progress.inFlight = { ...plan, since: startedAt };
    const outgoing = span && webhook.traceparent ? { ...built.request, headers: { ...withoutHeader(built.request.headers, 'traceparent'), traceparent: formatTraceparent(span) } } : built.request;
    const { request, sent, note } = await sendAuthorized(deps, webhook, secrets, outgoing, logger);
    const { entry, outcome } = recordAttempt(plan, startedAt, request, sent, deps.clock.now(), policy, note, logger);
    progress.attempts.push(entry);
    progress.inFlight = undefined;
    progress.takeovers = 0; // an attempt of known outcome is progress
    logger.log(outcome.result === 'succeeded' ? 'INFO' : 'WARNING', `attempt ${plan.number} (${plan.target}) ${outcome.result}: ${entry.summary}`, {
      attempt: plan.number,
      target: plan.target,
      outcome: outcome.result,
      status: sent.kind === 'response' ? sent.status : null,
      durationMs: sent.durationMs,
    });
    const failedCode = sent.kind !== 'error' ? 'http_error' : sent.code === DESTINATION_REFUSED ? 'destination_blocked' : sent.code === TOKEN_REJECTED ? 'auth_failed' : 'http_error';
    const step = continuation(outcome, plan, webhook.backupUrl !== undefined, policy, failedCode);
    const now = deps.clock.now();
    if (step.action === 'done') {
      return step.status === 'succeeded'
        ? stateOf(progress, now, { status: 'succeeded', errorCode: null, lastError: null, nextAttemptAt: null, next: null })
        : stateOf(progress, now, { status: 'failed', errorCode: step.errorCode, lastError: entry.summary, nextAttemptAt: null, next: null });
    }
    if (step.action === 'retry') {
      return stateOf(progress, now, { status: 'retrying', errorCode: null, lastError: entry.summary, nextAttemptAt: new Date(now.getTime() + step.delaySeconds * 1000), next: step.next });
    }
    // The backup goes out in this run: the record first says so, with the primary's result. `next` and
    // `nextAttemptAt` name it too, so a worker that dies while sending it leaves a record the repair
    // sweep's query of overdue retries finds (a retrying record without nextAttemptAt is never returned).
    // The dispatcher's delivery has no record yet: this write creates it (its second write, on this
    // failure path only), so from here on the repair sweep sees the backup in flight.
    const backupState = stateOf(progress, now, { status: progress.status, errorCode: null, lastError: entry.summary, nextAttemptAt: now, next: step.next, inFlight: { ...step.next, since: now } });
    // Taken over meanwhile (this run outlived its lease): the backup is not ours to send; the caller's
    // commit, conditioned on the same claim (or creating the same record), finds that too.
    if (!(await writeStep(deps, key, backupState, progress))) return backupState;
    plan = step.next;
    progress.claim = { number: plan.number, since: now };
  }
}
