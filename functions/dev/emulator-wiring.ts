/**
 * Creates, on the emulators, what Terraform creates in production: the events topic with a push
 * subscription that drives the dispatch function, and the retry queue. Shared by the local stack and
 * the tests. Dev tooling, not deployed.
 */
import { PubSub } from '@google-cloud/pubsub';
import { CloudTasksClient } from '@google-cloud/tasks';
import * as grpc from '@grpc/grpc-js';
import { GrpcStatus } from '../src/core/failures.ts';

/**
 * The functions framework turns a classic push body into a CloudEvent when the push URL's path is
 * /projects/P/topics/T — which is how the emulator stands in for Eventarc here.
 */
export async function createEventsTopic(options: { projectId: string; topic: string; dispatchUrl: string; subscription?: string; ackDeadlineSeconds?: number; pubsub?: PubSub }): Promise<PubSub> {
  const pubsub = options.pubsub ?? new PubSub({ projectId: options.projectId });
  const [topic] = await pubsub.topic(options.topic).get({ autoCreate: true });
  const pushEndpoint = `${options.dispatchUrl.replace(/\/$/, '')}/projects/${options.projectId}/topics/${options.topic}`;
  const name = options.subscription ?? `${options.topic}-dispatch`;
  const subscription = topic.subscription(name);
  const [exists] = await subscription.exists();
  if (exists) await subscription.modifyPushConfig({ pushEndpoint });
  else await topic.createSubscription(name, { pushConfig: { pushEndpoint }, ackDeadlineSeconds: options.ackDeadlineSeconds ?? 60, retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } } });
  return pubsub;
}

/**
 * The operations topic (operational events: hookshape.delivery.failed, ...) and its push subscription
 * to the same dispatch function, as terraform/pubsub.tf declares them.
 */
export async function createOperationsTopic(options: { pubsub: PubSub; projectId: string; topic: string; dispatchUrl: string }): Promise<void> {
  await createEventsTopic({ ...options, subscription: `${options.topic}-dispatch` });
}

export function cloudTasksEmulatorClient(address: string): CloudTasksClient {
  const [host, port] = address.split(':');
  return new CloudTasksClient({ apiEndpoint: host, port: Number(port), sslCreds: grpc.credentials.createInsecure() });
}

/** The retry queue. Its own retries only cover crashes of the worker: the schedule is the application's. */
export async function createRetryQueue(options: { address: string; projectId: string; location: string; queue: string }): Promise<void> {
  const client = cloudTasksEmulatorClient(options.address);
  const parent = client.locationPath(options.projectId, options.location);
  try {
    await client.createQueue({
      parent,
      queue: { name: client.queuePath(options.projectId, options.location, options.queue), retryConfig: { maxAttempts: 5, minBackoff: { nanos: 200_000_000 }, maxBackoff: { seconds: 5 } } },
    });
  } catch (error) {
    if ((error as { code?: number }).code !== GrpcStatus.ALREADY_EXISTS) throw error;
  } finally {
    await client.close();
  }
}
