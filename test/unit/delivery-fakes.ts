/**
 * In-memory fakes of the delivery state machine's ports, each able to throw at a chosen call, and a
 * World that wires them like production (dispatcher, retry worker, repair sweep) around a clock the
 * test moves. The state machine itself (delivery/, dispatch/, retry/) and the template engine are real.
 */
import { classifyFailure, GrpcStatus } from '../../functions/src/core/failures.ts';
import type { Clock, SecretStore } from '../../functions/src/core/ports.ts';
import { hasEnded } from '../../functions/src/delivery/delivery-record.ts';
import { DEFAULT_LEASE_TIMING, type LeaseTiming } from '../../functions/src/delivery/lease.ts';
import type { ClaimResult, ClaimToken, EventClaim, EventClaimResult, EventClaimStore, DeliveryKey, DeliveryLog, DeliveryUpdate, ModifyChange, RetryScheduler, RetryTask, StaleCursor, StaleDeliveryFinder, StalePage, StaleQuery, StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { repairDeliveries, type RepairSummary } from '../../functions/src/delivery/repair.ts';
import { holdsClaim } from '../../functions/src/delivery/transitions.ts';
import { dispatchEvent, type DeliveryOutcome, type DispatchDeps } from '../../functions/src/dispatch/dispatch-event.ts';
import type { InvalidEventLog } from '../../functions/src/dispatch/ports.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { TemplateEngine, type PreparedTemplate } from '../../functions/src/render/template-engine.ts';
import { handleRetryTask, type RetryWorkerDeps, type WorkerAnswer } from '../../functions/src/retry/handle-retry-task.ts';
import type { HttpSender, SendResult } from '../../functions/src/send/http-sender.ts';
import { retryTaskId } from '../../functions/src/tasks/retry-task-name.ts';
import type { StoredWebhook, WebhookStore } from '../../functions/src/webhooks/webhook-store.ts';
import type { WebhookRateLimit } from '../../functions/src/webhooks/webhook-config.ts';

// ---------------------------------------------------------------------------------------------------
// Errors as the Google clients throw them.

/** gRPC UNAVAILABLE, as @google-cloud clients throw it: a passing fault. */
export const transientError = (what = 'unavailable'): Error => Object.assign(new Error(`14 UNAVAILABLE: ${what}`), { code: GrpcStatus.UNAVAILABLE });
/** gRPC PERMISSION_DENIED: a lasting fault (a refused request, a missing IAM role). */
export const lastingError = (what = 'permission denied'): Error => Object.assign(new Error(`7 PERMISSION_DENIED: ${what}`), { code: GrpcStatus.PERMISSION_DENIED });
/** A bug: a plain Error with no code. */
export const bugError = (what = 'boom'): Error => new TypeError(`cannot read properties of undefined (reading '${what}')`);

export type FaultKind = 'transient' | 'lasting';
export const faultError = (kind: FaultKind, what?: string): Error => (kind === 'transient' ? transientError(what) : lastingError(what));

// ---------------------------------------------------------------------------------------------------
// Fault injection.

/** The points where a fake can be told to throw. */
export type FaultPoint =
  | 'webhooks.subscribed'
  | 'webhooks.get'
  | 'secrets.secretsFor'
  | 'eventClaims.claim'
  | 'eventClaims.takeOver'
  | 'eventClaims.get'
  | 'deliveries.claim'
  | 'deliveries.modify'
  | 'deliveries.update'
  | 'deliveries.get'
  | 'deliveries.end'
  | 'scheduler.schedule'
  | 'engine.render'
  | 'sender.before'
  | 'sender.after'
  | 'finder.candidates'
  | 'invalidEvents.record';

interface FaultRule {
  point: FaultPoint;
  error: () => unknown;
  when: ((args: readonly unknown[]) => boolean) | undefined;
  skip: number;
  times: number;
}

export interface FaultOptions {
  /** Only calls whose arguments match count (e.g. one webhook's deliveries). */
  when?: (args: readonly unknown[]) => boolean;
  /** Matching calls let through before the first fault. */
  skip?: number;
  /** Faults thrown in all (default 1; Infinity: every matching call). */
  times?: number;
}

export class Faults {
  private readonly rules: FaultRule[] = [];
  readonly calls = new Map<FaultPoint, number>();
  /** Every error thrown by a fake, in order. */
  readonly thrown: Array<{ point: FaultPoint; error: unknown }> = [];

  /** `error`: a value to throw (thrown as is) or a factory called at the throw. */
  inject(point: FaultPoint, error: unknown, options: FaultOptions = {}): this {
    this.rules.push({ point, error: typeof error === 'function' ? (error as () => unknown) : () => error, when: options.when, skip: options.skip ?? 0, times: options.times ?? 1 });
    return this;
  }

  /** Stops every fault not yet thrown (the infrastructure is well again). */
  clear(): void {
    this.rules.length = 0;
  }

  hit(point: FaultPoint, ...args: unknown[]): void {
    this.calls.set(point, (this.calls.get(point) ?? 0) + 1);
    for (const rule of this.rules) {
      if (rule.point !== point || rule.times <= 0) continue;
      if (rule.when && !rule.when(args)) continue;
      if (rule.skip > 0) {
        rule.skip -= 1;
        continue;
      }
      rule.times -= 1;
      const error = rule.error();
      this.thrown.push({ point, error });
      throw error;
    }
  }

  count(point: FaultPoint): number {
    return this.calls.get(point) ?? 0;
  }
}

/** A `when` for calls about one webhook: the first argument is a key, a record or a task. */
export const forWebhook =
  (webhookId: string) =>
  (args: readonly unknown[]): boolean =>
    (args[0] as { webhookId?: unknown } | undefined)?.webhookId === webhookId;

// ---------------------------------------------------------------------------------------------------
// The ports.

export class ManualClock implements Clock {
  private at: number;
  constructor(start: Date) {
    this.at = start.getTime();
  }
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
  set(to: Date): void {
    if (to.getTime() > this.at) this.at = to.getTime();
  }
}

export const pathOf = (key: DeliveryKey): string => `accounts/${key.accountId}/webhooks/${key.webhookId}/deliveries/${key.eventId}`;

/** Firestore refuses documents over 1 MiB (INVALID_ARGUMENT). */
export const FIRESTORE_MAX_DOCUMENT_BYTES = 1024 * 1024;
export const documentBytes = (record: unknown): number => Buffer.byteLength(JSON.stringify(record));

/**
 * The delivery log in a Map, with Firestore's rules: `create` fails when the document exists, `update`
 * fails when it does not (NOT_FOUND), a document over 1 MiB is refused (INVALID_ARGUMENT), `modify` is a
 * transaction whose change function runs on a copy of the record (twice by default: the first run is
 * thrown away, as after contention, so a change that is not pure shows) and whose `write` is merged.
 */
export class MemoryDeliveryLog implements DeliveryLog, StaleDeliveryFinder {
  readonly records = new Map<string, StoredDelivery>();
  /** JSON bytes of every document written, in order. */
  readonly writtenBytes: number[] = [];
  /** Run each change function this many times before the run that counts. */
  contentionRuns = 1;
  private readonly faults: Faults;

  constructor(faults: Faults) {
    this.faults = faults;
  }

  private store(path: string, record: StoredDelivery): void {
    const bytes = documentBytes(record);
    if (bytes > FIRESTORE_MAX_DOCUMENT_BYTES) {
      throw Object.assign(new Error(`3 INVALID_ARGUMENT: Document '${path}' cannot be written because its size (${bytes} bytes) exceeds the maximum allowed size of 1,048,576 bytes.`), { code: GrpcStatus.INVALID_ARGUMENT });
    }
    this.writtenBytes.push(bytes);
    this.records.set(path, structuredClone(record));
  }

  async claim(record: StoredDelivery): Promise<ClaimResult> {
    this.faults.hit('deliveries.claim', record);
    const path = pathOf(record);
    const existing = this.records.get(path);
    if (existing) return { created: false, existing: structuredClone(existing) };
    this.store(path, record);
    return { created: true };
  }

  async modify<T>(key: DeliveryKey, change: (record: StoredDelivery | undefined) => ModifyChange<T>): Promise<T> {
    this.faults.hit('deliveries.modify', key, change);
    const path = pathOf(key);
    const read = () => {
      const current = this.records.get(path);
      return current ? structuredClone(current) : undefined;
    };
    for (let run = 0; run < this.contentionRuns; run += 1) change(read());
    const current = this.records.get(path);
    const { write, result } = change(read());
    if (write && current) this.store(path, { ...current, ...structuredClone(write) });
    return result;
  }

  async update(key: DeliveryKey, update: DeliveryUpdate, owner?: ClaimToken): Promise<boolean> {
    this.faults.hit('deliveries.update', key, update);
    const path = pathOf(key);
    const current = this.records.get(path);
    // With an owner it is a transaction: a record gone or taken over is not written.
    if (owner) {
      if (!holdsClaim(current, owner)) return false;
    } else if (!current) {
      throw Object.assign(new Error(`5 NOT_FOUND: No document to update: ${path}`), { code: GrpcStatus.NOT_FOUND });
    }
    this.store(path, { ...current!, ...structuredClone(update) });
    return true;
  }

  async end(key: DeliveryKey, fields: Pick<DeliveryUpdate, 'status' | 'errorCode' | 'lastError' | 'updatedAt'>): Promise<boolean> {
    this.faults.hit('deliveries.end', key, fields);
    const path = pathOf(key);
    const current = this.records.get(path);
    if (!current || hasEnded(current.status)) return false;
    this.store(path, { ...current, ...structuredClone(fields), next: null, nextAttemptAt: null, inFlight: null });
    return true;
  }

  async get(key: DeliveryKey): Promise<StoredDelivery | undefined> {
    this.faults.hit('deliveries.get', key);
    const current = this.records.get(pathOf(key));
    return current ? structuredClone(current) : undefined;
  }

  /** The two collection-group queries of the repair sweep, oldest first, a page at a time. */
  async candidates(query: StaleQuery): Promise<StalePage> {
    this.faults.hit('finder.candidates', query);
    const all = [...this.records.values()];
    // Firestore's order: the sort value, then the document path; a page starts after a cursor, which
    // here is the last record's sort value and path, as the Firestore adapter makes its own.
    type PageEnd = { at: number; path: string };
    const page = (records: StoredDelivery[], at: (record: StoredDelivery) => number, cursor: StaleCursor | null | undefined) => {
      if (cursor === null) return { records: [], next: null };
      const after = cursor as unknown as PageEnd | undefined;
      const found = records
        .sort((a, b) => at(a) - at(b) || pathOf(a).localeCompare(pathOf(b)))
        .filter((record) => !after || at(record) > after.at || (at(record) === after.at && pathOf(record) > after.path))
        .slice(0, query.limit);
      const last = found.at(-1);
      const end: PageEnd | undefined = last && found.length >= query.limit ? { at: at(last), path: pathOf(last) } : undefined;
      return { records: found, next: end ? (end as unknown as StaleCursor) : null };
    };
    const pending = page(all.filter((record) => record.status === 'pending' && record.updatedAt.getTime() <= query.pendingBefore.getTime()), (record) => record.updatedAt.getTime(), query.after?.pending);
    const retrying = page(all.filter((record) => record.status === 'retrying' && record.nextAttemptAt !== null && record.nextAttemptAt.getTime() <= query.dueBefore.getTime()), (record) => record.nextAttemptAt!.getTime(), query.after?.retrying);
    return { records: structuredClone([...pending.records, ...retrying.records]), next: { pending: pending.next, retrying: retrying.next } };
  }

  /** The stored record, read without going through the fault points. */
  peek(key: DeliveryKey): StoredDelivery | undefined {
    const current = this.records.get(pathOf(key));
    return current ? structuredClone(current) : undefined;
  }

  /** Puts a record in place as an earlier run left it. */
  put(record: StoredDelivery): void {
    this.records.set(pathOf(record), structuredClone(record));
  }
}

/**
 * The event claims in a Map: `create` fails when the claim exists; a takeover writes only while the
 * stored claim still holds the `claimedAt` the caller saw (one winner). `beforeTakeOver` runs between
 * the read and the conditional write, so a test can let a rival move the claim there.
 */
export class MemoryEventClaimStore implements EventClaimStore {
  readonly claims = new Map<string, EventClaim>();
  /** Documents written (creates and takeovers), in order: what the claims cost in writes. */
  readonly writes: string[] = [];
  beforeTakeOver: (() => Promise<void>) | undefined;
  private readonly faults: Faults;

  constructor(faults: Faults) {
    this.faults = faults;
  }

  async claim(claim: EventClaim): Promise<EventClaimResult> {
    this.faults.hit('eventClaims.claim', claim);
    const path = `${claim.accountId}/${claim.eventId}`;
    const existing = this.claims.get(path);
    if (existing) return { created: false, existing: structuredClone(existing) };
    this.claims.set(path, structuredClone(claim));
    this.writes.push(path);
    return { created: true };
  }

  async takeOver(accountId: string, eventId: string, seenClaimedAt: Date, change: Pick<EventClaim, 'claimedAt' | 'takeovers' | 'updatedAt'>): Promise<boolean> {
    this.faults.hit('eventClaims.takeOver', { accountId, eventId }, change);
    const path = `${accountId}/${eventId}`;
    const read = this.claims.get(path);
    await this.beforeTakeOver?.();
    const current = this.claims.get(path);
    if (!read || !current || current !== read || current.claimedAt.getTime() !== seenClaimedAt.getTime()) return false;
    this.claims.set(path, { ...current, ...structuredClone(change) });
    this.writes.push(path);
    return true;
  }

  async get(accountId: string, eventId: string): Promise<EventClaim | undefined> {
    this.faults.hit('eventClaims.get', { accountId, eventId });
    const current = this.claims.get(`${accountId}/${eventId}`);
    return current ? structuredClone(current) : undefined;
  }

  peek(eventId = 'evt-1', accountId = ACCOUNT): EventClaim | undefined {
    const current = this.claims.get(`${accountId}/${eventId}`);
    return current ? structuredClone(current) : undefined;
  }
}

export interface ScheduledTask {
  id: string;
  task: RetryTask;
  at: Date;
  /** The webhook's rate limit it was enqueued with: it waits on that webhook's own queue. */
  rateLimit?: WebhookRateLimit;
  /** Runs so far, and whether Cloud Tasks is done with it (a 2xx, or a lasting fault acknowledged). */
  runs: number;
  done: boolean;
}

/** Cloud Tasks: tasks by name; a second task of the same name is refused (ALREADY_EXISTS: a no-op). */
export class RecordingScheduler implements RetryScheduler {
  readonly tasks: ScheduledTask[] = [];
  duplicates = 0;
  private readonly faults: Faults;

  constructor(faults: Faults) {
    this.faults = faults;
  }

  async schedule(task: RetryTask, at: Date, rateLimit?: WebhookRateLimit): Promise<void> {
    this.faults.hit('scheduler.schedule', task, at);
    const id = retryTaskId(task);
    if (this.tasks.some((known) => known.id === id)) {
      this.duplicates += 1;
      return;
    }
    this.tasks.push({ id, task: structuredClone(task), at: new Date(at), ...(rateLimit ? { rateLimit: { ...rateLimit } } : {}), runs: 0, done: false });
  }

  /** GetTask: a task Cloud Tasks is not done with is still in its queue. */
  async queued(task: RetryTask): Promise<boolean> {
    const id = retryTaskId(task);
    return this.tasks.some((known) => known.id === id && !known.done);
  }

  pending(): ScheduledTask[] {
    return this.tasks.filter((task) => !task.done);
  }

  of(webhookId: string): ScheduledTask[] {
    return this.tasks.filter((task) => task.task.webhookId === webhookId);
  }
}

export class MemoryWebhookStore implements WebhookStore {
  private readonly docs = new Map<string, StoredWebhook>();
  private readonly faults: Faults;

  constructor(faults: Faults) {
    this.faults = faults;
  }

  /** Stores (or replaces) a document; the same object is handed out until it changes, like the cache. */
  set(accountId: string, id: string, data: unknown): void {
    this.docs.set(`${accountId}/${id}`, { id, data });
  }

  delete(accountId: string, id: string): void {
    this.docs.delete(`${accountId}/${id}`);
  }

  async subscribed(accountId: string, type: string): Promise<StoredWebhook[]> {
    this.faults.hit('webhooks.subscribed', accountId, type);
    return [...this.docs.entries()]
      .filter(([path, doc]) => path.startsWith(`${accountId}/`) && ((doc.data as { events?: unknown[] }).events ?? []).includes(type))
      .map(([, doc]) => doc);
  }

  async get(accountId: string, webhookId: string): Promise<StoredWebhook | undefined> {
    this.faults.hit('webhooks.get', { accountId, webhookId });
    return this.docs.get(`${accountId}/${webhookId}`);
  }
}

export class MemorySecretStore implements SecretStore {
  secrets: Record<string, string> = {};
  /** Each call's arguments: what the caller's webhooks name, and when one of them last had a secret stored. */
  readonly asked: Array<{ accountId: string; named: readonly string[]; changedAt: Date | undefined }> = [];
  private readonly faults: Faults;

  constructor(faults: Faults) {
    this.faults = faults;
  }

  async secretsFor(accountId: string, named: readonly string[] = [], changedAt?: Date): Promise<Record<string, string>> {
    this.asked.push({ accountId, named, changedAt });
    this.faults.hit('secrets.secretsFor', accountId);
    return { ...this.secrets };
  }
}

export class MemoryInvalidEventLog implements InvalidEventLog {
  readonly records = new Map<string, { reason: string; message: { data: string | null; attributes: Record<string, string> } }>();
  private readonly faults: Faults;

  constructor(faults: Faults) {
    this.faults = faults;
  }

  async record(messageId: string, reason: string, message: { data: string | null; attributes: Record<string, string> }): Promise<void> {
    this.faults.hit('invalidEvents.record', messageId, reason);
    if (!this.records.has(messageId)) this.records.set(messageId, { reason, message });
  }
}

/** The real template engine; `engine.render` faults fire at each render, with (field, context). */
export class FaultyTemplateEngine extends TemplateEngine {
  private readonly faults: Faults;

  constructor(faults: Faults) {
    super();
    this.faults = faults;
  }

  override renderPrepared(prepared: PreparedTemplate, context: object): string {
    this.faults.hit('engine.render', prepared.field, context);
    return super.renderPrepared(prepared, context);
  }
}

/** The webhook id and event id a test request is addressed to (see World.webhook's URL). */
export function addressOf(request: Pick<OutgoingRequest, 'url'>): { webhookId: string; eventId: string } {
  const [, , webhookId = '', eventId = ''] = new URL(request.url).pathname.split('/');
  return { webhookId, eventId };
}

export const response = (status: number, headers: Record<string, string> = {}, body = ''): SendResult => ({ kind: 'response', status, headers, body: Buffer.from(body), truncated: false, durationMs: 40 });

/**
 * The receivers: `respond` scripts the answers (by request and by how many requests that delivery had
 * before). `requests` holds what reached a receiver. `sender.before` faults throw before the request
 * leaves; `sender.after` faults throw after the receiver got it (the answer is lost).
 */
export class ScriptedSender implements HttpSender {
  readonly requests: OutgoingRequest[] = [];
  respond: (request: OutgoingRequest, previous: number) => SendResult | Promise<SendResult> = () => response(200);
  /** Called as a request reaches its receiver. */
  onReceived: ((request: OutgoingRequest, address: { webhookId: string; eventId: string }) => void) | undefined;
  private readonly faults: Faults;
  private readonly clock: ManualClock;

  constructor(faults: Faults, clock: ManualClock) {
    this.faults = faults;
    this.clock = clock;
  }

  async send(request: OutgoingRequest): Promise<SendResult> {
    const { webhookId, eventId } = addressOf(request);
    this.faults.hit('sender.before', { webhookId, eventId }, request);
    const previous = this.received(webhookId, eventId);
    this.requests.push(request);
    this.onReceived?.(request, { webhookId, eventId });
    const answer = await this.respond(request, previous);
    this.clock.advance(answer.durationMs);
    this.faults.hit('sender.after', { webhookId, eventId }, request);
    return answer;
  }

  /** Requests that reached the receiver of one delivery. */
  received(webhookId: string, eventId: string): number {
    return this.requests.filter((request) => {
      const address = addressOf(request);
      return address.webhookId === webhookId && address.eventId === eventId;
    }).length;
  }
}

// ---------------------------------------------------------------------------------------------------
// The world: production wiring around the fakes.

export const ACCOUNT = 'acc-1';
export const START = new Date('2026-11-23T10:00:00Z');
export const RETRY = { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 };
/** Cloud Tasks' wait before running a task again after a 5xx or 409. */
export const TASK_RETRY_MS = 30_000;

export function event(id = 'evt-1', data: Record<string, unknown> = { call: { id: 'call-1', from: '+3312345678' } }): EventMessage {
  return { id, type: 'call.created', accountId: ACCOUNT, occurredAt: '2026-11-23T09:59:59Z', data };
}

export function webhookDocument(id: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Hook ${id}`,
    events: ['call.created'],
    url: `https://receiver.example/hooks/${id}/{{ event.id }}`,
    body: '{"event": {{ event.id | json }}, "call": {{ data.call | json }}}',
    headers: { 'X-Hook': id },
    ...fields,
  };
}

export type Published = { acked: true; outcomes: DeliveryOutcome[] } | { acked: false; error: unknown };

export interface TaskRun {
  task: RetryTask;
  at: Date;
  answer?: WorkerAnswer;
  error?: unknown;
}

export class World {
  readonly faults = new Faults();
  readonly clock = new ManualClock(START);
  readonly logger = createMemoryLogger();
  readonly deliveries = new MemoryDeliveryLog(this.faults);
  readonly eventClaims = new MemoryEventClaimStore(this.faults);
  readonly scheduler = new RecordingScheduler(this.faults);
  readonly webhooks = new MemoryWebhookStore(this.faults);
  readonly secrets = new MemorySecretStore(this.faults);
  readonly invalidEvents = new MemoryInvalidEventLog(this.faults);
  readonly engine = new FaultyTemplateEngine(this.faults);
  readonly sender = new ScriptedSender(this.faults, this.clock);
  readonly timing: LeaseTiming;
  readonly runs: TaskRun[] = [];
  /** Requests that reached a receiver while the stored record already held a 2xx: must stay empty. */
  readonly sentAfterRecorded2xx: string[] = [];

  readonly maxWebhooksPerEvent: number;

  constructor(options: { webhooks?: string[]; timing?: LeaseTiming; maxWebhooksPerEvent?: number } = {}) {
    this.timing = options.timing ?? DEFAULT_LEASE_TIMING;
    this.maxWebhooksPerEvent = options.maxWebhooksPerEvent ?? 50;
    for (const id of options.webhooks ?? ['wh-a', 'wh-b', 'wh-c']) this.webhooks.set(ACCOUNT, id, webhookDocument(id));
    this.sender.onReceived = (request, { webhookId, eventId }) => {
      const stored = this.deliveries.records.get(pathOf({ accountId: ACCOUNT, webhookId, eventId }));
      if (stored?.attempts.some((attempt) => attempt.outcome === 'succeeded')) this.sentAfterRecorded2xx.push(`${request.method} ${request.url}`);
    };
  }

  deps(): DispatchDeps & RetryWorkerDeps & { finder: StaleDeliveryFinder } {
    return {
      engine: this.engine,
      sender: this.sender,
      deliveries: this.deliveries,
      eventClaims: this.eventClaims,
      scheduler: this.scheduler,
      clock: this.clock,
      logger: this.logger,
      retry: RETRY,
      timing: this.timing,
      webhooks: this.webhooks,
      invalidEvents: this.invalidEvents,
      secrets: this.secrets,
      retentionDays: 30,
      concurrency: 4,
      maxWebhooksPerEvent: this.maxWebhooksPerEvent,
      queueName: 'hookshape-retries',
      finder: this.deliveries,
    };
  }

  /** One Pub/Sub delivery of the event's message: acknowledged when dispatchEvent resolves. */
  async publish(message: EventMessage = event(), attributes: Record<string, string> = {}): Promise<Published> {
    try {
      const outcomes = await dispatchEvent(this.deps(), { messageId: `msg-${message.id}`, data: Buffer.from(JSON.stringify(message)), attributes });
      return { acked: true, outcomes };
    } catch (error) {
      return { acked: false, error };
    }
  }

  /** Pub/Sub redelivers after the claim lease has passed. */
  async redeliverAfterLease(message: EventMessage = event()): Promise<Published> {
    this.clock.advance(this.timing.leaseMs + 1000);
    return this.publish(message);
  }

  /**
   * What happens while an attempt hangs past its lease (its owner slow, not dead): the sweep takes the
   * delivery over, and the attempt it schedules, `attempt`, runs when due and succeeds.
   */
  async takeOverWhileHanging(attempt: number): Promise<void> {
    this.clock.advance(this.timing.leaseMs + 1000);
    const swept = await this.sweep();
    if (swept.repaired !== 1) throw new Error(`the sweep repaired ${swept.repaired} deliveries, not the one hanging`);
    const next = this.scheduler.pending().find((task) => task.task.attempt === attempt);
    if (!next) throw new Error(`no attempt ${attempt} scheduled by the takeover`);
    this.clock.set(next.at);
    const answer = await this.runTask(next.task);
    if (answer.note !== 'succeeded') throw new Error(`attempt ${attempt} answered ${answer.note}`);
    next.done = true;
  }

  /**
   * The receiver of a late owner: attempt 1 answers 500; attempt 2 hangs while its lease passes, the
   * sweep takes over and attempt 3 succeeds (takeOverWhileHanging), then ends as `late` says (an answer,
   * or a throw); every other request gets 200.
   */
  lateSecondAttempt(late: () => SendResult): void {
    let hanging = true;
    this.sender.respond = async (_request, previous) => {
      if (previous === 0) return response(500);
      if (previous === 1 && hanging) {
        hanging = false;
        await this.takeOverWhileHanging(3);
        return late();
      }
      return response(200);
    };
  }

  async runTask(task: RetryTask): Promise<WorkerAnswer> {
    return handleRetryTask(this.deps(), task);
  }

  /**
   * Cloud Tasks runs the earliest task not done when it is due (moving the clock there): again later
   * after a throw or a non-2xx answer; a lasting fault that escapes the worker is acknowledged, as the
   * worker's HTTP entry does (entry/retry-worker-handler.ts). Undefined when no task is left.
   */
  async runNextTask(): Promise<TaskRun | undefined> {
    const next = this.scheduler.pending().sort((a, b) => a.at.getTime() - b.at.getTime())[0];
    if (!next) return undefined;
    this.clock.set(next.at);
    next.runs += 1;
    const run: TaskRun = { task: next.task, at: this.clock.now() };
    try {
      run.answer = await this.runTask(next.task);
      if (run.answer.httpStatus < 300) next.done = true;
      else next.at = new Date(this.clock.now().getTime() + TASK_RETRY_MS);
    } catch (error) {
      run.error = error;
      if (classifyFailure(error) === 'transient') next.at = new Date(this.clock.now().getTime() + TASK_RETRY_MS);
      else next.done = true;
    }
    this.runs.push(run);
    return run;
  }

  /** Runs tasks until none is left (or `maxRuns`). */
  async drainTasks(maxRuns = 50): Promise<TaskRun[]> {
    const runs: TaskRun[] = [];
    for (let n = 0; n < maxRuns; n += 1) {
      const run = await this.runNextTask();
      if (!run) break;
      runs.push(run);
    }
    return runs;
  }

  async sweep(): Promise<RepairSummary> {
    return repairDeliveries(this.deps(), { dryRun: false, limit: 100 }, this.logger.child({ component: 'repair' }));
  }

  key(webhookId: string, eventId = 'evt-1'): DeliveryKey {
    return { accountId: ACCOUNT, webhookId, eventId };
  }

  record(webhookId: string, eventId = 'evt-1'): StoredDelivery {
    const record = this.deliveries.peek(this.key(webhookId, eventId));
    if (!record) throw new Error(`no delivery record for ${webhookId}/${eventId}`);
    return record;
  }

  received(webhookId: string, eventId = 'evt-1'): number {
    return this.sender.received(webhookId, eventId);
  }
}
