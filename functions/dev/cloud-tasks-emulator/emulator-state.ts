// DEV/TEST TOOLING ONLY — not deployed, not production code.
// State of the local Cloud Tasks emulator: queues, tasks and name tombstones, kept in plain
// Maps so that a test can stop one emulator and start another on the same state (simulating
// "Cloud Tasks was unreachable for a while"). Messages are kept in the shape
// @grpc/proto-loader produces (camelCase fields, int64 as number, enums as strings).

export interface Timestamp {
  seconds?: number;
  nanos?: number;
}
export type Duration = Timestamp;

export interface RpcStatus {
  code: number;
  message: string;
}

export interface Attempt {
  scheduleTime?: Timestamp;
  dispatchTime?: Timestamp;
  responseTime?: Timestamp;
  responseStatus?: RpcStatus;
}

export interface HttpRequestMessage {
  url?: string;
  httpMethod?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  oauthToken?: { serviceAccountEmail?: string; scope?: string };
  oidcToken?: { serviceAccountEmail?: string; audience?: string };
}

export interface RetryConfig {
  maxAttempts?: number;
  maxRetryDuration?: Duration;
  minBackoff?: Duration;
  maxBackoff?: Duration;
  maxDoublings?: number;
}

export interface QueueMessage {
  name?: string;
  appEngineRoutingOverride?: unknown;
  rateLimits?: { maxDispatchesPerSecond?: number; maxBurstSize?: number; maxConcurrentDispatches?: number };
  retryConfig?: RetryConfig;
  state?: string;
  purgeTime?: Timestamp;
  stackdriverLoggingConfig?: { samplingRatio?: number };
}

/** A task as the emulator keeps it; converted to a Task message per response view. */
export interface StoredTask {
  name: string;
  queueName: string;
  httpRequest: HttpRequestMessage;
  scheduleTime: Timestamp;
  createTime: Timestamp;
  dispatchDeadlineMs: number;
  dispatchCount: number;
  responseCount: number;
  /** Responses that were not 5xx: what X-CloudTasks-TaskExecutionCount reports. */
  executionCount: number;
  /** HTTP status of the previous attempt, for X-CloudTasks-TaskPreviousResponse. */
  previousResponse?: number;
  firstAttempt?: Attempt;
  lastAttempt?: Attempt;
}

export interface EmulatorState {
  queues: Map<string, QueueMessage>;
  tasks: Map<string, StoredTask>;
  /** Task name → epoch ms until which the name may not be reused. */
  tombstones: Map<string, number>;
}

export function createEmulatorState(): EmulatorState {
  return { queues: new Map(), tasks: new Map(), tombstones: new Map() };
}

// Resource names, as documented on Task.name / Queue.name.
export const LOCATION_NAME = /^projects\/[A-Za-z0-9:.-]+\/locations\/[A-Za-z0-9-]+$/;
export const QUEUE_NAME = /^projects\/[A-Za-z0-9:.-]+\/locations\/[A-Za-z0-9-]+\/queues\/([A-Za-z0-9-]{1,100})$/;
export const TASK_ID = /^[A-Za-z0-9_-]{1,500}$/;

/** Last path segment: the short queue or task id used in the X-CloudTasks-* headers. */
export function shortId(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

// Cloud Tasks' documented defaults for fields left unset when a queue is created.
export const DEFAULT_RETRY_CONFIG = {
  maxAttempts: 100,
  maxRetryDuration: { seconds: 0, nanos: 0 },
  minBackoff: { seconds: 0, nanos: 100_000_000 },
  maxBackoff: { seconds: 3600, nanos: 0 },
  maxDoublings: 16,
} as const satisfies RetryConfig;
export const DEFAULT_RATE_LIMITS = { maxDispatchesPerSecond: 500, maxBurstSize: 100, maxConcurrentDispatches: 1000 };
/** HTTP tasks: default 10 minutes, allowed interval [15 s, 30 min]. */
export const DEFAULT_DISPATCH_DEADLINE_MS = 10 * 60_000;
export const MIN_DISPATCH_DEADLINE_MS = 15_000;
export const MAX_DISPATCH_DEADLINE_MS = 30 * 60_000;

export function durationMs(d: Duration | undefined): number {
  return (d?.seconds ?? 0) * 1000 + (d?.nanos ?? 0) / 1e6;
}

export function timestampMs(t: Timestamp | undefined): number {
  return (t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

export function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.floor((ms - seconds * 1000) * 1e6) };
}

/** Timestamps are kept as given, truncated to microseconds like the real API does. */
export function truncateToMicros(t: Timestamp): Timestamp {
  const nanos = t.nanos ?? 0;
  return { seconds: t.seconds ?? 0, nanos: nanos - (nanos % 1000) };
}
