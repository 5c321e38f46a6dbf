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

/** The events' dead-letter topic, named as terraform/pubsub.tf names it. */
export const deadLetterTopicOf = (eventsTopic: string): string => `${eventsTopic}-dead-letter`;

/**
 * The events' dead-letter topic as terraform/pubsub.tf declares it: the pull subscription `…-inspect`
 * that keeps the originals, and the push subscription `…-notify` to deadLetterNotify, without a
 * dead-letter policy of its own. (The emulator does not apply dead-letter policies: a test publishes to
 * this topic what Pub/Sub would forward.) Returns the topic's name.
 */
export async function createDeadLetterTopic(options: { pubsub: PubSub; projectId: string; eventsTopic: string; notifyUrl: string }): Promise<string> {
  const name = deadLetterTopicOf(options.eventsTopic);
  await createEventsTopic({ pubsub: options.pubsub, projectId: options.projectId, topic: name, dispatchUrl: options.notifyUrl, subscription: `${name}-notify` });
  const inspect = options.pubsub.topic(name).subscription(`${name}-inspect`);
  const [exists] = await inspect.exists();
  if (!exists) await options.pubsub.topic(name).createSubscription(`${name}-inspect`, { ackDeadlineSeconds: 60 });
  return name;
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
