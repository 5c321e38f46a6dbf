// DEV/TEST TOOLING ONLY — not deployed, not production code.
// A small local stand-in for Cloud Tasks (Google ships no emulator). It serves the real
// google.cloud.tasks.v2.CloudTasks gRPC API from the protos bundled with @google-cloud/tasks,
// so the real CloudTasksClient talks to it unchanged, and it dispatches HTTP tasks at their
// schedule time with Cloud Tasks' headers and retry/backoff, within each queue's rate limits:
// a token bucket refilled at max_dispatches_per_second holding at most max_burst_size tokens
// (output only, picked from the rate as Cloud Tasks does: see burstFor), and at most
// max_concurrent_dispatches attempts waiting on their target at once. UpdateQueue follows its
// update_mask and, like the real API, creates a missing queue. Not modelled: IAM, App Engine
// targets, system throttling on 429/503, and the 7-day wait before a deleted queue's name can be reused.

import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcStatus } from '../../src/core/failures.ts';
import {
  createEmulatorState,
  DEFAULT_DISPATCH_DEADLINE_MS,
  DEFAULT_RATE_LIMITS,
  DEFAULT_RETRY_CONFIG,
  durationMs,
  LOCATION_NAME,
  MAX_DISPATCH_DEADLINE_MS,
  MIN_DISPATCH_DEADLINE_MS,
  QUEUE_NAME,
  shortId,
  TASK_ID,
  timestampFromMs,
  timestampMs,
  truncateToMicros,
  type Duration,
  type EmulatorState,
  type HttpRequestMessage,
  type QueueMessage,
  type RetryConfig,
  type StoredTask,
  type Timestamp,
} from './emulator-state.ts';
import { buildDispatchHeaders, mayRetry, retryDelayMs, rpcCodeForHttpStatus, sendHttpRequest } from './task-dispatcher.ts';

export { createEmulatorState, type EmulatorState } from './emulator-state.ts';

export interface CloudTasksEmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** How long a deleted or completed task's name stays unusable (real Cloud Tasks: about an hour). */
  tombstoneSeconds?: number;
  /** One line per dispatch; silent by default. */
  log?: (line: string) => void;
  /** Reuse the queues/tasks/tombstones of a stopped emulator. */
  state?: EmulatorState;
}

export interface DispatchRecord {
  taskName: string;
  url: string;
  /** 0 on the first attempt, like X-CloudTasks-TaskRetryCount. */
  retryCount: number;
  /** HTTP status, absent when there was no response (see `error`). */
  status?: number;
  error?: string;
  at: Date;
}

export interface CloudTasksEmulator {
  host: string;
  port: number;
  /** "host:port", for CloudTasksClient's apiEndpoint/port or a CLOUD_TASKS_EMULATOR_HOST-style setting. */
  address: string;
  state: EmulatorState;
  /** Every finished attempt, in order. */
  dispatched: DispatchRecord[];
  /** Emits 'dispatch' with a DispatchRecord after each finished attempt. */
  events: EventEmitter;
  stop(): Promise<void>;
}

/** Thrown inside handlers; becomes the call's gRPC status. */
class RpcError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

// setTimeout overflows above 2^31-1 ms (~24.8 days); tasks may be scheduled up to 30 days ahead.
const MAX_TIMER_MS = 2 ** 31 - 1;

let cachedService: grpc.ServiceDefinition | undefined;

/** The CloudTasks service definition, from the protos that ship with @google-cloud/tasks and google-gax. */
function cloudTasksService(): grpc.ServiceDefinition {
  if (cachedService) return cachedService;
  const require = createRequire(import.meta.url);
  const tasksProtos = path.dirname(require.resolve('@google-cloud/tasks/build/protos'));
  // google-gax ships google/api, google/rpc, google/iam, google/protobuf; resolve it as the tasks package sees it.
  const gaxProtos = path.join(path.dirname(createRequire(tasksProtos + '/').resolve('google-gax')), '..', 'protos');
  const definition = protoLoader.loadSync('google/cloud/tasks/v2/cloudtasks.proto', {
    includeDirs: [tasksProtos, gaxProtos],
    longs: Number,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  cachedService = definition['google.cloud.tasks.v2.CloudTasks'] as unknown as grpc.ServiceDefinition;
  return cachedService;
}

export async function startCloudTasksEmulator(options: CloudTasksEmulatorOptions = {}): Promise<CloudTasksEmulator> {
  const host = options.host ?? '127.0.0.1';
  const tombstoneMs = (options.tombstoneSeconds ?? 3600) * 1000;
  const log = options.log ?? (() => {});
  const state = options.state ?? createEmulatorState();
  const events = new EventEmitter();
  const dispatched: DispatchRecord[] = [];
  const timers = new Map<string, NodeJS.Timeout>();
  const inFlight = new Set<string>();
  // Per queue: due tasks waiting for a token or a free concurrency slot, the token bucket, the
  // attempts waiting on their target, and the timer that wakes the queue when a token is due.
  const ready = new Map<string, Set<string>>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const running = new Map<string, number>();
  const pumpTimers = new Map<string, NodeJS.Timeout>();
  const stopController = new AbortController();

  // ---- lookups and validation ------------------------------------------------------------

  function requireQueueName(name: string | undefined): string {
    if (!name || !QUEUE_NAME.test(name)) {
      throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Invalid queue name "${name ?? ''}": expected projects/P/locations/L/queues/Q`);
    }
    return name;
  }
  function getQueue(name: string | undefined): QueueMessage {
    const queue = state.queues.get(requireQueueName(name));
    if (!queue) throw new RpcError(GrpcStatus.NOT_FOUND, `Queue ${name} does not exist`);
    return queue;
  }
  function getTask(name: string | undefined): StoredTask {
    const queueName = name?.slice(0, name.lastIndexOf('/tasks/'));
    if (!name || !queueName || !QUEUE_NAME.test(queueName) || !TASK_ID.test(shortId(name)) || name !== `${queueName}/tasks/${shortId(name)}`) {
      throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Invalid task name "${name ?? ''}"`);
    }
    const task = state.tasks.get(name);
    if (!task) throw new RpcError(GrpcStatus.NOT_FOUND, `Task ${name} does not exist`);
    return task;
  }

  function removeTask(task: StoredTask): void {
    clearTimer(task.name);
    ready.get(task.queueName)?.delete(task.name);
    state.tasks.delete(task.name);
    // Real Cloud Tasks refuses to reuse a task name for a while after deletion or completion.
    state.tombstones.set(task.name, Date.now() + tombstoneMs);
  }

  function isTombstoned(name: string): boolean {
    const until = state.tombstones.get(name);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    state.tombstones.delete(name);
    return false;
  }

  // ---- scheduling and dispatch -----------------------------------------------------------

  function clearTimer(name: string): void {
    clearTimeout(timers.get(name));
    timers.delete(name);
  }

  function schedule(task: StoredTask): void {
    clearTimer(task.name);
    if (stopController.signal.aborted) return;
    const delay = Math.max(0, timestampMs(task.scheduleTime) - Date.now());
    const timer = setTimeout(() => {
      timers.delete(task.name);
      if (delay > MAX_TIMER_MS) schedule(task);
      else becomeReady(task);
    }, Math.min(delay, MAX_TIMER_MS));
    timers.set(task.name, timer);
  }

  /** A due task waits for its queue's rate limits. */
  function becomeReady(task: StoredTask): void {
    let waiting = ready.get(task.queueName);
    if (!waiting) ready.set(task.queueName, (waiting = new Set()));
    waiting.add(task.name);
    pump(task.queueName);
  }

  function bucketOf(queueName: string, limits: Required<NonNullable<QueueMessage['rateLimits']>>): { tokens: number; at: number } {
    const now = Date.now();
    let bucket = buckets.get(queueName);
    // A new queue starts with a full bucket, as a queue that has been idle.
    if (!bucket) buckets.set(queueName, (bucket = { tokens: limits.maxBurstSize, at: now }));
    bucket.tokens = Math.min(limits.maxBurstSize, bucket.tokens + ((now - bucket.at) / 1000) * limits.maxDispatchesPerSecond);
    bucket.at = now;
    return bucket;
  }

  /** Dispatches the queue's due tasks while it has tokens and free concurrency; else waits for either. */
  function pump(queueName: string): void {
    clearTimeout(pumpTimers.get(queueName));
    pumpTimers.delete(queueName);
    const queue = state.queues.get(queueName);
    const waiting = ready.get(queueName);
    if (stopController.signal.aborted || !queue || queue.state === 'PAUSED' || !waiting?.size) return;
    const limits = rateLimitsOf(queue);
    const bucket = bucketOf(queueName, limits);
    for (const name of waiting) {
      // A full queue is pumped again when one of its attempts finishes.
      if ((running.get(queueName) ?? 0) >= limits.maxConcurrentDispatches) return;
      if (bucket.tokens < 1) {
        const wait = Math.ceil(((1 - bucket.tokens) / limits.maxDispatchesPerSecond) * 1000);
        pumpTimers.set(queueName, setTimeout(() => pump(queueName), wait));
        return;
      }
      waiting.delete(name);
      const task = state.tasks.get(name);
      if (!task || inFlight.has(name)) continue;
      bucket.tokens -= 1;
      void attempt(task, false);
    }
  }

  /** One dispatch attempt. Everything before the first await runs synchronously (RunTask relies on it). */
  async function attempt(task: StoredTask, ignorePause: boolean): Promise<void> {
    const queue = state.queues.get(task.queueName);
    if (stopController.signal.aborted || state.tasks.get(task.name) !== task || inFlight.has(task.name) || !queue) return;
    if (queue.state === 'PAUSED' && !ignorePause) return; // ResumeQueue reschedules it
    const dispatchMs = Date.now();
    const headers = buildDispatchHeaders(task, dispatchMs);
    const retryCount = task.dispatchCount;
    inFlight.add(task.name);
    running.set(task.queueName, (running.get(task.queueName) ?? 0) + 1);
    task.dispatchCount += 1;
    task.firstAttempt ??= { dispatchTime: timestampFromMs(dispatchMs) }; // the real API keeps only this
    task.lastAttempt = { scheduleTime: task.scheduleTime, dispatchTime: timestampFromMs(dispatchMs) };

    const outcome = await sendHttpRequest(task, headers, stopController.signal);
    inFlight.delete(task.name);
    running.set(task.queueName, (running.get(task.queueName) ?? 1) - 1);
    pump(task.queueName);
    // Stopped mid-request: record nothing; a new emulator on the same state dispatches it again.
    if (outcome.kind === 'aborted') return;

    const record: DispatchRecord = { taskName: task.name, url: task.httpRequest.url ?? '', retryCount, at: new Date() };
    const lastAttempt = task.lastAttempt;
    if (outcome.kind === 'response') {
      record.status = outcome.status;
      task.responseCount += 1;
      if (outcome.status < 500) task.executionCount += 1;
      task.previousResponse = outcome.status;
      lastAttempt.responseTime = timestampFromMs(Date.now());
      lastAttempt.responseStatus = { code: rpcCodeForHttpStatus(outcome.status), message: `HTTP ${outcome.status}` };
    } else {
      record.error = outcome.message;
      task.previousResponse = undefined; // no HTTP status to report on the next attempt
      lastAttempt.responseStatus = { code: outcome.code, message: outcome.message };
    }

    const succeeded = outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
    let next: string;
    if (state.tasks.get(task.name) !== task) {
      next = 'task was deleted meanwhile';
    } else if (succeeded) {
      removeTask(task);
      next = 'done';
    } else if (mayRetry(queue.retryConfig, task.dispatchCount, Date.now() - timestampMs(task.firstAttempt.dispatchTime))) {
      const delay = retryDelayMs(queue.retryConfig, task.dispatchCount);
      task.scheduleTime = timestampFromMs(Date.now() + delay);
      schedule(task);
      next = `retry in ${Math.round(delay)} ms`;
    } else {
      removeTask(task);
      next = 'retries exhausted, task deleted';
    }
    const result = record.status !== undefined ? `HTTP ${record.status}` : `failed: ${record.error}`;
    const what = retryCount === 0 ? 'dispatch' : `retry #${retryCount}`;
    log(`[cloud-tasks-emulator] ${what} ${shortId(task.queueName)}/${shortId(task.name)} → ${task.httpRequest.httpMethod} ${record.url}: ${result}; ${next}`);
    dispatched.push(record);
    events.emit('dispatch', record);
  }

  // ---- queues --------------------------------------------------------------------------------

  function normaliseRetryConfig(given: RetryConfig | undefined): RetryConfig {
    const nonZero = (d: Duration | undefined) => (durationMs(d) > 0 ? d : undefined);
    return {
      maxAttempts: given?.maxAttempts || DEFAULT_RETRY_CONFIG.maxAttempts,
      maxRetryDuration: given?.maxRetryDuration ?? DEFAULT_RETRY_CONFIG.maxRetryDuration,
      minBackoff: nonZero(given?.minBackoff) ?? DEFAULT_RETRY_CONFIG.minBackoff,
      maxBackoff: nonZero(given?.maxBackoff) ?? DEFAULT_RETRY_CONFIG.maxBackoff,
      maxDoublings: given?.maxDoublings || DEFAULT_RETRY_CONFIG.maxDoublings,
    };
  }

  function checkedRetryConfig(retryConfig: RetryConfig): RetryConfig {
    if ((retryConfig.maxAttempts ?? 0) < -1 || durationMs(retryConfig.minBackoff) > durationMs(retryConfig.maxBackoff)) {
      throw new RpcError(GrpcStatus.INVALID_ARGUMENT, 'Invalid retryConfig: maxAttempts must be >= -1 and minBackoff <= maxBackoff');
    }
    return retryConfig;
  }

  /** The documented ranges; max_burst_size is output only and follows the rate. */
  function checkedRateLimits(given: NonNullable<QueueMessage['rateLimits']>): Required<NonNullable<QueueMessage['rateLimits']>> {
    const rate = given.maxDispatchesPerSecond ?? DEFAULT_RATE_LIMITS.maxDispatchesPerSecond;
    const concurrent = given.maxConcurrentDispatches ?? DEFAULT_RATE_LIMITS.maxConcurrentDispatches;
    if (!(rate > 0 && rate <= 500)) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `rateLimits.maxDispatchesPerSecond must be more than 0 and at most 500, got ${rate}`);
    if (!(Number.isInteger(concurrent) && concurrent >= 1 && concurrent <= 5000)) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `rateLimits.maxConcurrentDispatches must be from 1 to 5000, got ${concurrent}`);
    return { maxDispatchesPerSecond: rate, maxConcurrentDispatches: concurrent, maxBurstSize: burstFor(rate) };
  }

  function createQueue(name: string, input: QueueMessage): QueueMessage {
    const queue: QueueMessage = {
      ...input,
      name,
      rateLimits: checkedRateLimits({ ...DEFAULT_RATE_LIMITS, ...stripZero(input.rateLimits) }),
      retryConfig: checkedRetryConfig(normaliseRetryConfig(input.retryConfig)),
      state: 'RUNNING',
    };
    state.queues.set(name, queue);
    return queue;
  }

  // ---- messages ----------------------------------------------------------------------------

  function taskMessage(task: StoredTask, view: string | undefined) {
    const full = view === 'FULL';
    // The body is only returned in the FULL view, as in the real API.
    const { body, ...withoutBody } = task.httpRequest;
    return {
      name: task.name,
      httpRequest: full ? { ...withoutBody, body } : withoutBody,
      scheduleTime: task.scheduleTime,
      createTime: task.createTime,
      dispatchDeadline: { seconds: Math.floor(task.dispatchDeadlineMs / 1000), nanos: (task.dispatchDeadlineMs % 1000) * 1e6 },
      dispatchCount: task.dispatchCount,
      responseCount: task.responseCount,
      firstAttempt: task.firstAttempt,
      lastAttempt: task.lastAttempt,
      view: full ? 'FULL' : 'BASIC',
    };
  }

  function page<T>(items: T[], pageSize: number | undefined, pageToken: string | undefined): { items: T[]; nextPageToken: string } {
    const start = pageToken ? Number(pageToken) : 0;
    if (!Number.isInteger(start) || start < 0) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, 'Invalid page token');
    const size = pageSize && pageSize > 0 ? Math.min(pageSize, 1000) : 1000;
    const end = start + size;
    return { items: items.slice(start, end), nextPageToken: end < items.length ? String(end) : '' };
  }

  function tasksOfQueue(queueName: string): StoredTask[] {
    return [...state.tasks.values()].filter((t) => t.queueName === queueName);
  }

  function normaliseHttpRequest(request: HttpRequestMessage): HttpRequestMessage {
    const url = request.url ?? '';
    if (!/^https?:\/\//.test(url) || !URL.canParse(url)) {
      throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `HttpRequest.url must be an http:// or https:// URL, got "${url}"`);
    }
    const httpMethod = !request.httpMethod || request.httpMethod === 'HTTP_METHOD_UNSPECIFIED' ? 'POST' : request.httpMethod;
    if (request.body?.length && !['POST', 'PUT', 'PATCH'].includes(httpMethod)) {
      throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `A body is only allowed with POST, PUT or PATCH, not ${httpMethod}`);
    }
    const normalised: HttpRequestMessage = { url, httpMethod, headers: { ...request.headers } };
    if (request.body?.length) normalised.body = Buffer.from(request.body);
    if (request.oidcToken) normalised.oidcToken = request.oidcToken;
    else if (request.oauthToken) normalised.oauthToken = request.oauthToken;
    return normalised;
  }

  // ---- RPC handlers ------------------------------------------------------------------------

  // Decoded by proto-loader; fields are validated where they are used.
  type Request = Record<string, any>;
  function unary(handler: (request: Request) => object): grpc.handleUnaryCall<Request, object> {
    return (call, callback) => {
      try {
        callback(null, handler(call.request));
      } catch (error) {
        if (error instanceof RpcError) callback({ code: error.code, details: error.message });
        else callback({ code: GrpcStatus.INTERNAL, details: String(error) });
      }
    };
  }

  const handlers: grpc.UntypedServiceImplementation = {
    CreateQueue: unary((request) => {
      const parent: string = request.parent ?? '';
      const { purgeTime: _outputOnly, ...input }: QueueMessage = request.queue ?? {};
      const name = requireQueueName(input.name);
      if (!LOCATION_NAME.test(parent) || !name.startsWith(`${parent}/queues/`)) {
        throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Queue name ${name} is not inside parent "${parent}"`);
      }
      if (state.queues.has(name)) throw new RpcError(GrpcStatus.ALREADY_EXISTS, `Queue ${name} already exists`);
      return createQueue(name, input);
    }),

    UpdateQueue: unary((request) => {
      const { purgeTime: _outputOnly, ...input }: QueueMessage = request.queue ?? {};
      const name = requireQueueName(input.name);
      const existing = state.queues.get(name);
      // The real UpdateQueue creates a queue that does not exist.
      if (!existing) return createQueue(name, input);
      const paths: string[] = (request.updateMask?.paths ?? []).map(camelPath);
      const mask = paths.length ? paths : ['rateLimits', 'retryConfig', 'stackdriverLoggingConfig'];
      let rateLimits = { ...existing.rateLimits };
      let retryConfig = { ...existing.retryConfig };
      let logging = existing.stackdriverLoggingConfig;
      for (const path of mask) {
        const [field, sub] = path.split('.');
        if (field === 'rateLimits') {
          if (sub === 'maxBurstSize') continue; // output only: ignored, as documented
          if (sub && sub !== 'maxDispatchesPerSecond' && sub !== 'maxConcurrentDispatches') throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Unknown field in update_mask: ${path}`);
          const given = stripZero(input.rateLimits) as Record<string, number>;
          if (sub) {
            const key = sub as 'maxDispatchesPerSecond' | 'maxConcurrentDispatches';
            rateLimits[key] = given[key] ?? DEFAULT_RATE_LIMITS[key];
          } else rateLimits = { ...DEFAULT_RATE_LIMITS, ...given };
        } else if (field === 'retryConfig') {
          const allowed = ['maxAttempts', 'maxRetryDuration', 'minBackoff', 'maxBackoff', 'maxDoublings'];
          if (sub && !allowed.includes(sub)) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Unknown field in update_mask: ${path}`);
          if (sub) retryConfig = { ...retryConfig, [sub]: normaliseRetryConfig({ ...retryConfig, [sub]: (input.retryConfig as Record<string, unknown> | undefined)?.[sub] })[sub as keyof RetryConfig] };
          else retryConfig = normaliseRetryConfig(input.retryConfig);
        } else if (field === 'stackdriverLoggingConfig') {
          logging = input.stackdriverLoggingConfig;
        } else if (field !== 'name') {
          throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Unknown or output-only field in update_mask: ${path}`);
        }
      }
      const updated: QueueMessage = { ...existing, rateLimits: checkedRateLimits(rateLimits), retryConfig: checkedRetryConfig(retryConfig), ...(logging ? { stackdriverLoggingConfig: logging } : {}) };
      state.queues.set(name, updated);
      // A lower burst takes effect at once; the next dispatches follow the new rate.
      const bucket = buckets.get(name);
      if (bucket) bucket.tokens = Math.min(bucket.tokens, updated.rateLimits?.maxBurstSize ?? bucket.tokens);
      pump(name);
      return updated;
    }),

    GetQueue: unary((request) => getQueue(request.name)),

    ListQueues: unary((request) => {
      if (!LOCATION_NAME.test(request.parent ?? '')) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Invalid parent "${request.parent ?? ''}"`);
      const queues = [...state.queues.values()].filter((q) => q.name?.startsWith(`${request.parent}/queues/`));
      const { items, nextPageToken } = page(queues, request.pageSize, request.pageToken);
      return { queues: items, nextPageToken };
    }),

    DeleteQueue: unary((request) => {
      const queue = getQueue(request.name);
      for (const task of tasksOfQueue(queue.name ?? '')) removeTask(task);
      state.queues.delete(queue.name ?? '');
      return {};
    }),

    PurgeQueue: unary((request) => {
      const queue = getQueue(request.name);
      for (const task of tasksOfQueue(queue.name ?? '')) removeTask(task);
      queue.purgeTime = timestampFromMs(Date.now());
      return queue;
    }),

    PauseQueue: unary((request) => {
      const queue = getQueue(request.name);
      queue.state = 'PAUSED';
      return queue;
    }),

    ResumeQueue: unary((request) => {
      const queue = getQueue(request.name);
      queue.state = 'RUNNING';
      for (const task of tasksOfQueue(queue.name ?? '')) schedule(task);
      pump(queue.name ?? '');
      return queue;
    }),

    CreateTask: unary((request) => {
      const queue = getQueue(request.parent);
      const queueName = queue.name ?? '';
      const input: Request = request.task ?? {};
      if (input.appEngineHttpRequest) throw new RpcError(GrpcStatus.UNIMPLEMENTED, 'The emulator supports only httpRequest targets');
      if (!input.httpRequest) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, 'Task.httpRequest is required');

      let name: string = input.name || `${queueName}/tasks/${randomInt(1e9, 1e10 - 1)}${randomInt(1e9, 1e10 - 1)}`;
      if (!name.startsWith(`${queueName}/tasks/`) || !TASK_ID.test(name.slice(queueName.length + '/tasks/'.length))) {
        throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `Task name must be ${queueName}/tasks/ID with ID matching [A-Za-z0-9_-]{1,500}, got "${name}"`);
      }
      if (state.tasks.has(name)) throw new RpcError(GrpcStatus.ALREADY_EXISTS, `Task ${name} already exists`);
      if (isTombstoned(name)) {
        throw new RpcError(GrpcStatus.ALREADY_EXISTS, `Task ${name} existed too recently; its name cannot be reused yet`);
      }

      const deadlineMs = input.dispatchDeadline ? Math.floor(durationMs(input.dispatchDeadline)) : DEFAULT_DISPATCH_DEADLINE_MS;
      if (deadlineMs < MIN_DISPATCH_DEADLINE_MS || deadlineMs > MAX_DISPATCH_DEADLINE_MS) {
        throw new RpcError(GrpcStatus.INVALID_ARGUMENT, 'Task.dispatchDeadline must be between 15 seconds and 30 minutes');
      }
      const nowMs = Date.now();
      const scheduleTime: Timestamp = input.scheduleTime ? truncateToMicros(input.scheduleTime) : timestampFromMs(nowMs);
      const task: StoredTask = {
        name,
        queueName,
        httpRequest: normaliseHttpRequest(input.httpRequest),
        scheduleTime,
        createTime: { seconds: Math.floor(nowMs / 1000), nanos: 0 }, // truncated to seconds, as documented
        dispatchDeadlineMs: deadlineMs,
        dispatchCount: 0,
        responseCount: 0,
        executionCount: 0,
      };
      state.tasks.set(name, task);
      schedule(task);
      return taskMessage(task, request.responseView);
    }),

    GetTask: unary((request) => taskMessage(getTask(request.name), request.responseView)),

    ListTasks: unary((request) => {
      const queue = getQueue(request.parent);
      const ordered = tasksOfQueue(queue.name ?? '').sort(
        (a, b) => timestampMs(a.scheduleTime) - timestampMs(b.scheduleTime) || a.name.localeCompare(b.name),
      );
      const { items, nextPageToken } = page(ordered, request.pageSize, request.pageToken);
      return { tasks: items.map((t) => taskMessage(t, request.responseView)), nextPageToken };
    }),

    DeleteTask: unary((request) => {
      removeTask(getTask(request.name));
      return {};
    }),

    RunTask: unary((request) => {
      const task = getTask(request.name);
      if (!inFlight.has(task.name)) {
        clearTimer(task.name);
        task.scheduleTime = timestampFromMs(Date.now());
        // Returns after the dispatch started but before the target answered, like the real API.
        void attempt(task, true);
      }
      return taskMessage(task, request.responseView);
    }),
  };

  // ---- server ------------------------------------------------------------------------------

  const server = new grpc.Server();
  server.addService(cloudTasksService(), handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });
  // Tasks carried over from a previous emulator (same state) resume where they were.
  for (const task of state.tasks.values()) schedule(task);

  let stopped: Promise<void> | undefined;
  return {
    host,
    port,
    address: `${host}:${port}`,
    state,
    dispatched,
    events,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        stopController.abort(); // abandons in-flight dispatches
        for (const name of [...timers.keys()]) clearTimer(name);
        for (const timer of pumpTimers.values()) clearTimeout(timer);
        // Let running calls finish, but do not wait on idle client connections for long.
        const force = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopped;
    },
  };
}

/**
 * max_burst_size as the emulator picks it from the rate (the real value is Cloud Tasks' choice and not
 * documented beyond its default): a fifth of a second's worth, at least 1 — the documented default
 * pair, 500/s with a burst of 100, is one point of it. Queues the emulator reports state it.
 */
export function burstFor(maxDispatchesPerSecond: number): number {
  return Math.min(500, Math.max(1, Math.ceil(maxDispatchesPerSecond / 5)));
}

/** rate_limits.max_dispatches_per_second → rateLimits.maxDispatchesPerSecond (masks come in either form). */
function camelPath(path: string): string {
  return path.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A queue's limits with Cloud Tasks' defaults for what was never set (queues of an older state). */
function rateLimitsOf(queue: QueueMessage): Required<NonNullable<QueueMessage['rateLimits']>> {
  const rate = queue.rateLimits?.maxDispatchesPerSecond || DEFAULT_RATE_LIMITS.maxDispatchesPerSecond;
  return {
    maxDispatchesPerSecond: rate,
    maxConcurrentDispatches: queue.rateLimits?.maxConcurrentDispatches || DEFAULT_RATE_LIMITS.maxConcurrentDispatches,
    maxBurstSize: queue.rateLimits?.maxBurstSize || burstFor(rate),
  };
}

function stripZero<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== 0 && v !== undefined)) as Partial<T>;
}
