import type { CloudTasksClient } from '@google-cloud/tasks';
import { GrpcStatus } from '../core/failures.ts';
import type { RetryScheduler, RetryTask } from '../delivery/ports.ts';
import type { WebhookRateLimit } from '../webhooks/webhook-config.ts';
import { defaultRateLimitedQueuePrefix, queueRateLimits, rateLimitedQueueId, sameRateLimits, type QueueRateLimits } from './rate-limited-queue.ts';
import { retryTaskId } from './retry-task-name.ts';

export interface CloudTasksSchedulerOptions {
  projectId: string;
  location: string;
  queue: string;
  /** Prefix of the rate-limited webhooks' own queues; default `<queue>-rl-`. */
  rateLimitedQueuePrefix?: string;
  /** The retry worker's URL: the HTTP target of every task. */
  workerUrl: string | undefined;
  /** Service account whose OIDC token authenticates the task's call to the worker (IAM run.invoker). */
  invokerServiceAccount: string | undefined;
  /** host:port of the local emulator; unset in production. */
  emulatorHost: string | undefined;
  /** Told when a rate-limited queue is created or changed (a log line). */
  onQueueChange?: (change: QueueChange) => void;
}

export interface QueueChange {
  queue: string;
  action: 'created' | 'updated';
  rateLimits: QueueRateLimits;
  /** The burst Cloud Tasks picked for the rate (output only); undefined when it did not say. */
  maxBurstSize: number | undefined;
}

/**
 * A rate-limited queue could not be created or changed for a lasting reason (no permission, the
 * project's queue quota or Cloud Tasks' limit on queue changes). Deliberately without the gRPC error
 * as `cause`: RESOURCE_EXHAUSTED is otherwise a passing fault, and redelivering the event for a quota
 * that does not come back would only loop; the delivery records it and ends (a replay sends it).
 */
export class RateLimitedQueueError extends Error {
  override name = 'RateLimitedQueueError';
  readonly grpcCode: number | undefined;
  constructor(message: string, grpcCode: number | undefined) {
    super(message);
    this.grpcCode = grpcCode;
  }
}

const LASTING_QUEUE_FAULTS = new Set<number>([GrpcStatus.PERMISSION_DENIED, GrpcStatus.RESOURCE_EXHAUSTED, GrpcStatus.INVALID_ARGUMENT, GrpcStatus.FAILED_PRECONDITION]);
const codeOf = (error: unknown) => (error as { code?: number }).code;

/**
 * Enqueues retries as Cloud Tasks HTTP tasks aimed at the retry worker. The client library is loaded on
 * the first retry, not at cold start: most events never need one.
 *
 * A rate-limited webhook's tasks go to a queue of its own whose rate_limits hold its limit. The queue
 * is created on first use and updated when the limit changes — never deleted, since a deleted queue's
 * name cannot be used again for about 7 days, and queue changes are themselves rate limited: what an
 * instance has checked or set is remembered, so steady traffic costs no queue call at all.
 */
export class CloudTasksRetryScheduler implements RetryScheduler {
  private readonly options: CloudTasksSchedulerOptions;
  private client: Promise<CloudTasksClient> | undefined;
  /** Queue path → the limits it is known to have (or is being given): one check per instance and limit. */
  private readonly knownQueues = new Map<string, { limits: QueueRateLimits; ready: Promise<void> }>();
  private retryConfig: Promise<object | undefined> | undefined;

  constructor(options: CloudTasksSchedulerOptions) {
    this.options = options;
  }

  private async connect(): Promise<CloudTasksClient> {
    const { CloudTasksClient } = await import('@google-cloud/tasks');
    const host = this.options.emulatorHost;
    if (!host) return new CloudTasksClient();
    const { credentials } = await import('@grpc/grpc-js');
    const [hostname, port] = host.split(':');
    return new CloudTasksClient({ apiEndpoint: hostname, port: Number(port), sslCreds: credentials.createInsecure() });
  }

  private get prefix(): string {
    return this.options.rateLimitedQueuePrefix ?? defaultRateLimitedQueuePrefix(this.options.queue);
  }

  /** The short queue id a task of this webhook runs from. */
  queueIdFor(accountId: string, webhookId: string, rateLimit: WebhookRateLimit | undefined): string {
    return rateLimit ? rateLimitedQueueId(this.prefix, accountId, webhookId) : this.options.queue;
  }

  async schedule(task: RetryTask, at: Date, rateLimit?: WebhookRateLimit): Promise<void> {
    const { projectId, location, workerUrl, invokerServiceAccount } = this.options;
    if (!workerUrl) throw new Error('RETRY_WORKER_URL is not set: retries cannot be scheduled');
    this.client ??= this.connect();
    const client = await this.client;
    const parent = client.queuePath(projectId, location, this.queueIdFor(task.accountId, task.webhookId, rateLimit));
    if (rateLimit) await this.ensureQueue(client, parent, queueRateLimits(rateLimit));
    const request = {
      parent,
      task: {
        name: `${parent}/tasks/${retryTaskId(task)}`,
        scheduleTime: { seconds: Math.floor(at.getTime() / 1000), nanos: (at.getTime() % 1000) * 1e6 },
        httpRequest: {
          httpMethod: 'POST' as const,
          url: workerUrl,
          // The trace goes in the body (the worker reads it) and as the header Cloud Run's request log reads.
          headers: { 'Content-Type': 'application/json', ...(task.traceparent ? { traceparent: task.traceparent } : {}) },
          body: Buffer.from(JSON.stringify(task)),
          ...(invokerServiceAccount ? { oidcToken: { serviceAccountEmail: invokerServiceAccount, audience: workerUrl } } : {}),
        },
      },
    };
    try {
      try {
        await client.createTask(request);
      } catch (error) {
        // A queue this instance knew was removed behind its back: checked (and created) once more.
        if (!rateLimit || codeOf(error) !== GrpcStatus.NOT_FOUND) throw error;
        this.knownQueues.delete(parent);
        await this.ensureQueue(client, parent, queueRateLimits(rateLimit));
        await client.createTask(request);
      }
    } catch (error) {
      if (error instanceof RateLimitedQueueError) throw error;
      // The same attempt enqueued again (a redelivered event or task): the first task stands.
      if (codeOf(error) === GrpcStatus.ALREADY_EXISTS) return;
      throw new Error(`could not enqueue attempt ${task.attempt} of delivery ${task.webhookId}/${task.eventId}: ${(error as Error).message}`, { cause: error });
    }
  }

  async queued(task: RetryTask): Promise<boolean> {
    this.client ??= this.connect();
    const client = await this.client;
    const { projectId, location, queue } = this.options;
    // Both queues: the webhook's limit may have been added or removed since the task was enqueued.
    for (const id of [queue, rateLimitedQueueId(this.prefix, task.accountId, task.webhookId)]) {
      try {
        await client.getTask({ name: `${client.queuePath(projectId, location, id)}/tasks/${retryTaskId(task)}` });
        return true;
      } catch (error) {
        if (codeOf(error) !== GrpcStatus.NOT_FOUND) throw error;
      }
    }
    return false;
  }

  /** Makes the queue exist with these limits; concurrent callers of one instance share one check. */
  private ensureQueue(client: CloudTasksClient, name: string, limits: QueueRateLimits): Promise<void> {
    const known = this.knownQueues.get(name);
    if (known && sameRateLimits(known.limits, limits)) return known.ready;
    const ready = this.configureQueue(client, name, limits).catch((error: unknown) => {
      this.knownQueues.delete(name); // the next delivery tries again
      throw error;
    });
    this.knownQueues.set(name, { limits, ready });
    return ready;
  }

  private async configureQueue(client: CloudTasksClient, name: string, limits: QueueRateLimits): Promise<void> {
    const lasting = (what: string, error: unknown) => {
      const code = codeOf(error);
      if (code !== undefined && LASTING_QUEUE_FAULTS.has(code)) {
        return new RateLimitedQueueError(`the webhook's rate-limited queue ${name} could not be ${what}: ${(error as Error).message} (check the functions' cloudtasks.queues.* permissions and the project's queue quota, then replay)`, code);
      }
      return new Error(`the webhook's rate-limited queue ${name} could not be ${what}: ${(error as Error).message}`, { cause: error });
    };
    let current: { rateLimits?: { maxDispatchesPerSecond?: number | null; maxConcurrentDispatches?: number | null } | null } | undefined;
    try {
      [current] = await client.getQueue({ name });
    } catch (error) {
      if (codeOf(error) !== GrpcStatus.NOT_FOUND) throw lasting('read', error);
    }
    if (!current) {
      const retryConfig = await this.retryQueueConfig(client);
      try {
        const [created] = await client.createQueue({ parent: name.slice(0, name.lastIndexOf('/queues/')), queue: { name, rateLimits: limits, ...(retryConfig ? { retryConfig } : {}) } });
        this.options.onQueueChange?.({ queue: name, action: 'created', rateLimits: limits, maxBurstSize: created.rateLimits?.maxBurstSize ?? undefined });
        return;
      } catch (error) {
        // Another instance created it meanwhile: read what it set, and set ours if it differs.
        if (codeOf(error) !== GrpcStatus.ALREADY_EXISTS) throw lasting('created', error);
        try {
          [current] = await client.getQueue({ name });
        } catch (again) {
          throw lasting('read', again);
        }
      }
    }
    if (sameRateLimits(current?.rateLimits, limits)) return;
    try {
      const [updated] = await client.updateQueue({ queue: { name, rateLimits: limits }, updateMask: { paths: ['rate_limits.max_dispatches_per_second', 'rate_limits.max_concurrent_dispatches'] } });
      this.options.onQueueChange?.({ queue: name, action: 'updated', rateLimits: limits, maxBurstSize: updated.rateLimits?.maxBurstSize ?? undefined });
    } catch (error) {
      throw lasting('updated', error);
    }
  }

  /**
   * The retry queue's retry_config (Terraform's: the worker's own crash retries), copied onto a new
   * rate-limited queue so both behave alike when the worker fails; Cloud Tasks' defaults if unreadable.
   */
  private retryQueueConfig(client: CloudTasksClient): Promise<object | undefined> {
    this.retryConfig ??= client
      .getQueue({ name: client.queuePath(this.options.projectId, this.options.location, this.options.queue) })
      .then(([queue]) => (queue.retryConfig ? { ...queue.retryConfig } : undefined))
      .catch(() => {
        this.retryConfig = undefined;
        return undefined;
      });
    return this.retryConfig;
  }
}
