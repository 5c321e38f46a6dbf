import type { CloudTasksClient } from '@google-cloud/tasks';
import { GrpcStatus } from '../core/failures.ts';
import type { RetryScheduler, RetryTask } from '../delivery/ports.ts';
import { retryTaskId } from './retry-task-name.ts';

export interface CloudTasksSchedulerOptions {
  projectId: string;
  location: string;
  queue: string;
  /** The retry worker's URL: the HTTP target of every task. */
  workerUrl: string | undefined;
  /** Service account whose OIDC token authenticates the task's call to the worker (IAM run.invoker). */
  invokerServiceAccount: string | undefined;
  /** host:port of the local emulator; unset in production. */
  emulatorHost: string | undefined;
}

/**
 * Enqueues retries as Cloud Tasks HTTP tasks aimed at the retry worker. The client library is loaded on
 * the first retry, not at cold start: most events never need one.
 */
export class CloudTasksRetryScheduler implements RetryScheduler {
  private readonly options: CloudTasksSchedulerOptions;
  private client: Promise<CloudTasksClient> | undefined;

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

  async schedule(task: RetryTask, at: Date): Promise<void> {
    const { projectId, location, queue, workerUrl, invokerServiceAccount } = this.options;
    if (!workerUrl) throw new Error('RETRY_WORKER_URL is not set: retries cannot be scheduled');
    this.client ??= this.connect();
    const client = await this.client;
    const parent = client.queuePath(projectId, location, queue);
    try {
      await client.createTask({
        parent,
        task: {
          name: `${parent}/tasks/${retryTaskId(task)}`,
          scheduleTime: { seconds: Math.floor(at.getTime() / 1000), nanos: (at.getTime() % 1000) * 1e6 },
          httpRequest: {
            httpMethod: 'POST',
            url: workerUrl,
            // The trace goes in the body (the worker reads it) and as the header Cloud Run's request log reads.
            headers: { 'Content-Type': 'application/json', ...(task.traceparent ? { traceparent: task.traceparent } : {}) },
            body: Buffer.from(JSON.stringify(task)),
            ...(invokerServiceAccount ? { oidcToken: { serviceAccountEmail: invokerServiceAccount, audience: workerUrl } } : {}),
          },
        },
      });
    } catch (error) {
      // The same attempt enqueued again (a redelivered event or task): the first task stands.
      if ((error as { code?: number }).code === GrpcStatus.ALREADY_EXISTS) return;
      throw new Error(`could not enqueue attempt ${task.attempt} of delivery ${task.webhookId}/${task.eventId}: ${(error as Error).message}`, { cause: error });
    }
  }
}
